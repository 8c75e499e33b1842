"""Run a blocking iterator (the query pipeline's stream) in a worker thread and consume it from async code.

The event loop never waits on model work. When the consumer stops early (a client disconnected, a
deadline passed) the cancel token is set, and the generation stops at its next token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar

from rag_core.errors import RequestTimeout
from rag_models.llm.base import CancelToken

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def timeout_error(seconds: float) -> RequestTimeout:
    return RequestTimeout(
        f"the request took longer than {seconds:g} s and was stopped",
        hint="ask a shorter question, use a smaller top_k, or raise RAG_API__REQUEST_TIMEOUT_S",
    )


async def iterate_in_thread(
    make: Callable[[], Iterator[T]], cancel: CancelToken, timeout_s: float
) -> AsyncGenerator[T, None]:
    """Yield what `make()` yields, produced in a worker thread; RequestTimeout after `timeout_s`."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def put(item: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:
            cancel.cancel()

    def work() -> None:
        try:
            if cancel.cancelled:
                return
            for item in make():
                put(item)
                if cancel.cancelled:
                    return
        except BaseException as exc:
            put(_Failure(exc))
        finally:
            put(_END)

    deadline = time.monotonic() + timeout_s
    loop.run_in_executor(None, work)
    try:
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = await asyncio.wait_for(queue.get(), timeout=max(remaining, 0.001))
            except TimeoutError:
                raise timeout_error(timeout_s) from None
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        cancel.cancel()
