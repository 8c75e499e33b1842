"""Prometheus metrics, one registry per app (so several apps in one process never collide)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import Job
from ingest.report import FileOutcome
from rag_core.types import QueryResponse

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "rag_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "rag_http_request_duration_seconds",
            "HTTP request latency (streams: until the last event)",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter("rag_errors", "errors returned to clients, by error type", ["type"], registry=r)
        self.stages = Histogram(
            "rag_query_stage_seconds",
            "query pipeline latency per stage (from response.timings)",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queries = Counter("rag_queries", "answered queries by outcome", ["outcome"], registry=r)
        self.ingest_files = Counter("rag_ingest_files", "ingested files by outcome", ["status"], registry=r)
        self.ingest_chunks = Counter("rag_ingest_chunks", "chunks written by ingests", registry=r)
        self.ingest_jobs = Counter("rag_ingest_jobs", "ingest jobs by final state", ["status"], registry=r)

    def observe_query(self, response: QueryResponse, retrieval_only: bool = False) -> None:
        for stage, seconds in response.timings.items():
            self.stages.labels(stage).observe(seconds)
        outcome = "retrieval_only" if retrieval_only else "refused" if response.refused else "answered"
        self.queries.labels(outcome).inc()

    def observe_file(self, outcome: FileOutcome) -> None:
        self.ingest_files.labels(outcome.status).inc()
        if outcome.status in ("added", "updated"):
            self.ingest_chunks.inc(outcome.chunks)

    def observe_job(self, job: Job) -> None:
        self.ingest_jobs.labels(job.status).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, path, str(status)).inc()
            self.metrics.latency.labels(method, path).observe(time.perf_counter() - started)
