"""One error shape for every failure: `{"error": {"type": kind, "message": text}}` with the right status.

RagErrors carry their own status and kind; validation errors become 422; anything unexpected becomes a
500 whose details stay in the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag_core.errors import RagError

log = logging.getLogger("rag.api")

_HTTP_KINDS = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "limit_exceeded"}


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def rag_error_body(exc: RagError) -> dict[str, Any]:
    return error_body(exc.kind, str(exc))


def stream_error_body(exc: BaseException, what: str) -> dict[str, Any]:
    """The error event that ends a stream (SSE, NDJSON) which failed after its response started: a
    RagError as it is, anything else logged with its traceback and told without details."""
    if isinstance(exc, RagError):
        return rag_error_body(exc)
    log.error("%s failed", what, exc_info=exc)
    return error_body("internal_error", "internal server error; the details are in the server log")


def _count(request: Request, kind: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(kind).inc()


async def _rag_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    if exc.http_status >= 500:
        log.warning("%s %s failed: %s", request.method, request.url.path, exc)
    _count(request, exc.kind)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return JSONResponse(rag_error_body(exc), status_code=exc.http_status, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors())
    _count(request, "validation_error")
    return JSONResponse(error_body("validation_error", problems or "invalid request"), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_KINDS.get(exc.status_code, "http_error")
    _count(request, kind)
    return JSONResponse(error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    _count(request, "internal_error")
    return JSONResponse(
        error_body("internal_error", "internal server error; the details are in the server log"),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
