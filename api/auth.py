"""API keys (`RAG_API_KEYS`): `Authorization: Bearer KEY` or `X-API-Key: KEY` on every route but health
and the static chat page. With no keys configured, the API is open (and `rag serve` binds loopback only).
The local credential that `rag serve` writes into the data dir is accepted as a key too."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.state import StateDep
from rag.local.announcement import TOKEN_HEADER
from rag_core.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="an API key from RAG_API_KEYS")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key from RAG_API_KEYS")


def presented_key(request: Request) -> str:
    key = request.headers.get("x-api-key", "")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def key_is_valid(key: str, keys: list[str]) -> bool:
    if not key:
        return False
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def presents_local_token(request: Request, token: str) -> bool:
    """The rag CLI's local credential (from the data dir) counts as an API key: whoever can read it can
    read the data dir, documents and all. The reverse is not true (see api/routes/local.py)."""
    presented = request.headers.get(TOKEN_HEADER, "")
    return bool(token and presented) and hmac.compare_digest(presented.encode(), token.encode())


def require_api_key(
    request: Request,
    state: StateDep,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _h: Annotated[str | None, Depends(_header)],
) -> None:
    keys = state.settings.api_keys
    if not keys or presents_local_token(request, state.local_token):
        return
    key = presented_key(request)
    if not key:
        raise Unauthorized(
            "this server requires an API key",
            hint="send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
        )
    if not key_is_valid(key, keys):
        raise Unauthorized("the API key is not valid", hint="use one of the keys in RAG_API_KEYS")
