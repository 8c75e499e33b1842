"""Helpers shared by the API tests: SSE parsing, a uvicorn server in a thread, an instrumented Components."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from rag.components import Components
from rag.query.pipeline import QueryPipeline
from rag.query.request import QueryRequest
from rag_core.cancel import CancelToken
from rag_core.settings import Settings
from rag_models.llm.base import LLM, ChatMessage, Generation, GenerationOptions
from tests.servers import free_port

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
QUESTION = "How long does the NR-7 run on one charge?"
QUESTION_SOURCE = "robot-faq.html"


def variant(settings: Settings, *, api_keys: list[str] | None = None, **api: object) -> Settings:
    """`settings` with other API keys and API limits (same data dir, same models)."""
    update: dict[str, object] = {"api": settings.api.model_copy(update=api)}
    if api_keys is not None:
        update["api_keys"] = api_keys
    return settings.model_copy(update=update)


def sse_events(lines: Iterable[str]) -> list[tuple[str, Any]]:
    """(event name, parsed data) for each Server-Sent Event; comments (pings) are skipped."""
    events: list[tuple[str, Any]] = []
    name, data = "message", []
    for line in lines:
        if not line:
            if data:
                raw = "\n".join(data)
                events.append((name, raw if raw == "[DONE]" else json.loads(raw)))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    return events


class SlowLLM:
    """Wraps the real LLM: waits `delay` seconds before each delta and records what it produced; fails
    like a crashing backend (not a RagError) after `fail_after` deltas when that is set."""

    def __init__(self, inner: LLM, owner: RecordingComponents) -> None:
        self._inner = inner
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        for delta in self._inner.stream(messages, options, cancel):
            if self._owner.fail_after is not None and self._owner.deltas >= self._owner.fail_after:
                raise RuntimeError("secret internal detail")
            time.sleep(self._owner.delay)
            self._owner.deltas += 1
            yield delta

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Generation:
        text = "".join(self.stream(messages, options, cancel))
        if cancel is not None and cancel.expired:
            raise cancel.timeout_error()
        reason = "cancelled" if cancel is not None and cancel.cancelled else "stop"
        return Generation(text, self._inner.count_tokens(messages), 0, reason)


class RecordingComponents(Components):
    """The real components, recording every query request and cancel token; `delay` slows generation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[QueryRequest] = []
        self.cancels: list[CancelToken] = []
        self.delay = 0.0
        self.deltas = 0
        self.fail_after: int | None = None

    def llm(self) -> LLM:
        real = super().llm()
        wrapped = self.delay or self.fail_after is not None
        return SlowLLM(real, self) if wrapped else real  # type: ignore[return-value]

    def _build_query_pipeline(self) -> QueryPipeline:
        pipeline = super()._build_query_pipeline()
        original_stream, original_run = pipeline.stream, pipeline.run

        def record(request: QueryRequest, cancel: CancelToken | None) -> None:
            self.requests.append(request)
            if cancel is not None:
                self.cancels.append(cancel)

        def stream(request: QueryRequest, cancel: CancelToken | None = None) -> Any:
            record(request, cancel)
            return original_stream(request, cancel)

        def run(request: QueryRequest, cancel: CancelToken | None = None) -> Any:
            record(request, cancel)
            return original_run(request, cancel)

        pipeline.stream = stream  # type: ignore[method-assign]
        pipeline.run = run  # type: ignore[method-assign]
        return pipeline


class ServerThread:
    """A real uvicorn server for `app` on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
