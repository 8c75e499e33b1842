"""`/healthz` (the process answers), `/readyz` (models loaded, vector store reachable, and for `rag serve`
its announcement in the data dir in place), `/metrics`."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from api.auth import require_api_key
from api.schemas import Status
from api.state import AppState, StateDep
from rag.local.announcement import announcement_path, read_announcement
from rag_core.errors import RagError
from rag_models.llm.factory import describe

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Status)
async def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: {"model": Status, "description": "not ready"}})
async def readyz(state: StateDep) -> JSONResponse:
    checks = await to_thread.run_sync(_checks, state)
    ready = all(c["ok"] for c in checks.values())
    body = Status(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


def _checks(state: AppState) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        state.components.chroma.heartbeat()
        kind = "chroma server" if state.components.chroma.url else "embedded chroma"
        checks["vector_store"] = {"ok": True, "detail": kind}
    except RagError as exc:
        checks["vector_store"] = {"ok": False, "detail": str(exc)}
    except Exception as exc:
        checks["vector_store"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    warm = state.warm
    wanted = state.settings.api.warm_up
    checks["embedder"] = {
        "ok": warm.embedder == "ready" or (not wanted and warm.embedder == "pending"),
        "detail": warm.detail.get("embedder", warm.embedder),
    }
    try:
        status = describe(state.components.llm())
        llm_ok = status.ready and (warm.llm == "ready" or (not wanted and warm.llm == "pending"))
        detail = warm.detail.get("llm") or (
            f"{status.backend} {status.model}" if status.ready else status.detail
        )
    except RagError as exc:
        llm_ok, detail = False, str(exc)
    checks["llm"] = {"ok": llm_ok, "state": warm.llm, "detail": detail}
    if state.local_token:
        checks["announcement"] = _announcement(state)
    return checks


def _announcement(state: AppState) -> dict[str, Any]:
    """Whether rag commands on this data dir find this server (`rag serve` only)."""
    data_dir = state.settings.data_dir
    announced = read_announcement(data_dir)
    if announced is not None and announced.token == state.local_token:
        return {"ok": True, "detail": f"rag commands on {data_dir} go through this server"}
    if state.settings.chroma.url:  # replicas: any of them, or none (the CLI then works in-process)
        who = f"pid {announced.pid}" if announced is not None else "no server (in-process, beside Chroma)"
        return {"ok": True, "detail": f"rag commands on {data_dir} go through {who}"}
    return {
        "ok": False,
        "detail": f"{announcement_path(data_dir)} is missing or names another server, so rag commands on "
        "this data dir cannot find this one (and wait for it); restart `rag serve`",
    }


@router.get("/metrics", dependencies=[Depends(require_api_key)], response_class=Response)
async def metrics(state: StateDep) -> Response:
    """Prometheus text format: requests, errors, latency per route and per query stage, ingest counters."""
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
