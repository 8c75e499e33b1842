"""Calls only the `rag` CLI on the server's machine may make: it presents the local credential that
`rag serve` wrote (0600) into the data dir. An API key is not enough: ingesting paths of the server's
filesystem would let any API client read any file the server can read.

`GET /v1/local/whoami`: the server's pid and data dir (the CLI checks an announcement is live).
`POST /v1/local/ingest` `{"paths": [...], "collection", "prune"}`: ingest local files and folders,
answering newline-delimited JSON events: `start`, one `file` per file, then `done` or `error`.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.errors import stream_error_body
from api.state import StateDep
from ingest.report import FileOutcome
from rag.local.announcement import TOKEN_HEADER
from rag_core.errors import ConfigError, InvalidInputError, RagError, Unauthorized

log = logging.getLogger("rag.api")


class Forbidden(RagError):
    http_status = 403
    kind = "forbidden"


def require_local_token(request: Request, state: StateDep) -> None:
    expected = state.local_token
    if not expected:
        raise Forbidden(
            "local client calls are off on this server",
            hint="only a server started with `rag serve` accepts them, from the rag CLI on its machine",
        )
    presented = request.headers.get(TOKEN_HEADER, "")
    if not presented:
        raise Unauthorized(
            f"this call needs the local credential of the server's data dir ({TOKEN_HEADER})",
            hint="only the rag CLI on the server's machine, run by a user who can read the data dir, may "
            "make it; an API key is not enough",
        )
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("the local credential is not valid", hint="it changes with every server start")


router = APIRouter(prefix="/v1/local", tags=["local"], dependencies=[Depends(require_local_token)])


class WhoAmI(BaseModel):
    pid: int
    data_dir: str


class LocalIngest(BaseModel):
    paths: list[str] = Field(min_length=1, description="absolute paths of files or folders on this machine")
    collection: str | None = Field(default=None, description="target collection (default: the configured)")
    prune: bool = Field(default=False, description="remove documents whose files are gone from the paths")


@router.get("/whoami", response_model=WhoAmI)
async def whoami(state: StateDep) -> WhoAmI:
    return WhoAmI(pid=os.getpid(), data_dir=str(state.settings.data_dir))


@router.post("/ingest", responses={200: {"content": {"application/x-ndjson": {}}}})
async def ingest(body: LocalIngest, state: StateDep) -> StreamingResponse:
    """Ingest files and folders of the server's machine, as `rag ingest` does in-process."""
    paths = [_checked(raw) for raw in body.paths]
    pipeline = state.components.ingest_pipeline
    name = body.collection or state.settings.collection
    info = await to_thread.run_sync(lambda: pipeline().open_collection(name))
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def progress(outcome: FileOutcome, done: int, total: int) -> None:
        state.metrics.observe_file(outcome)
        events.put({"event": "file", **_outcome(outcome), "done": done, "total": total})

    def work() -> None:
        try:
            report = pipeline().run(paths, info.name, prune=body.prune, progress=progress)
            done = {
                "documents": report.documents,
                "chunks": report.chunks,
                "seconds": report.seconds,
                "reembedded_from": report.reembedded_from,
            }
            events.put({"event": "done", **done})
        except Exception as exc:
            status = exc.http_status if isinstance(exc, RagError) else 500
            events.put({"event": "error", "status": status, **stream_error_body(exc, "local ingest")})
        finally:
            events.put(None)

    def lines() -> Iterator[str]:
        yield _line({"event": "start", "collection": info.name})
        threading.Thread(target=work, name="local-ingest", daemon=True).start()
        while (event := events.get()) is not None:
            yield _line(event)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _checked(raw: str) -> Path:
    if "\x00" in raw or not raw.strip():
        raise InvalidInputError(f"{raw!r} is not a path", hint="pass files or folders", http_status=422)
    path = Path(raw)
    if not path.is_absolute():
        raise InvalidInputError(
            f"{raw}: not an absolute path", hint="the rag CLI sends absolute paths", http_status=422
        )
    if not path.exists():
        raise ConfigError(f"{raw}: no such file or folder", hint="check the path you passed to rag ingest")
    return path


def _outcome(outcome: FileOutcome) -> dict[str, Any]:
    return {
        "path": outcome.path,
        "status": outcome.status,
        "error": outcome.error,
        "chunks": outcome.chunks,
        "doc_id": outcome.doc_id,
    }


def _line(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False) + "\n"
