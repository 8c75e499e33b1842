"""`GET /v1/info`: what a client (the chat page) needs to know: default collection, limits, version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.auth import require_api_key
from api.state import StateDep
from vectorstore.naming import MAX_NAME, NAME_RULE

router = APIRouter(prefix="/v1", tags=["health"], dependencies=[Depends(require_api_key)])


@router.get("/info")
async def info(state: StateDep) -> dict[str, Any]:
    api = state.settings.api
    return {
        "version": "0.1.0",
        "default_collection": state.settings.collection,
        "auth": bool(state.settings.api_keys),
        "limits": {
            "max_upload_mb": api.max_upload_mb,
            "max_files": api.max_files,
            "max_question_chars": api.max_question_chars,
            "request_timeout_s": api.request_timeout_s,
        },
        "collection_name": {"max_chars": MAX_NAME, "rule": NAME_RULE},
    }
