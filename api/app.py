"""The FastAPI app factory. Nothing is built at import time: tests build apps with their own settings.

app = create_app()                                # settings from the environment
app = create_app(settings, components)            # tests, or an embedding application
uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.conversations import ConversationStore
from api.errors import install_error_handlers
from api.jobs import JobRegistry, JobStore
from api.metrics import Metrics, MetricsMiddleware
from api.routes import (
    collections,
    conversations,
    documents,
    health,
    info,
    jobs,
    local,
    openai,
    page,
    query,
)
from api.routes.page import STATIC_DIR
from api.state import AppState
from rag.components import Components
from rag_core.settings import Settings, load_settings

DESCRIPTION = """Local, private question answering over your documents, with citations.

Every route except `/healthz` and `/readyz` needs an API key when `RAG_API_KEYS` is set
(`Authorization: Bearer KEY` or `X-API-Key: KEY`). Errors are `{"error": {"type", "message"}}`."""


def _fastapi(**kwargs: Any) -> FastAPI:
    """With `fastapi-offline` installed, /docs and /redoc serve their assets locally too (no CDN)."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:
        return FastAPI(**kwargs)
    app: FastAPI = FastAPIOffline(favicon_url="/static/favicon.svg", **kwargs)
    return app


def create_app(
    settings: Settings | None = None, components: Components | None = None, *, local_token: str = ""
) -> FastAPI:
    """`local_token`: the credential `rag serve` announced in the data dir; it opens /v1/local."""
    settings = settings or (components.settings if components else load_settings())
    components = components or Components(settings)
    metrics = Metrics()
    state = AppState(
        settings=settings,
        components=components,
        conversations=ConversationStore(settings.database_at("conversations.sqlite3")),
        jobs=JobRegistry(
            JobStore(settings.database_at("jobs.sqlite3")),
            on_file=metrics.observe_file,
            on_done=lambda job: metrics.ingest_jobs.labels(job.status).inc(),
        ),
        metrics=metrics,
        local_token=local_token,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.api.warm_up:
            state.start_warm_up()
        yield
        state.jobs.shutdown()

    app = _fastapi(title="rag", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.rag = state
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for module in (health, info, query, conversations, collections, documents, jobs, openai, local, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
