"""Run a blocking iterator (the query pipeline's stream) in a worker thread and consume it from async code.

The event loop never waits on model work. When the consumer stops early (a client disconnected, a
deadline passed) the cancel token is set, and the work stops at its next check (a stage, a token).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar

from rag_core.cancel import CancelToken
from rag_core.errors import RequestTimeout

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def request_deadline(seconds: float) -> CancelToken:
    """The token of one request: cancelled when its client goes, expired after `seconds`
    (RAG_API__REQUEST_TIMEOUT_S), checked by the pipeline between stages and by the model per token."""
    return CancelToken(
        seconds,
        RequestTimeout(
            f"the request took longer than {seconds:g} s and was stopped",
            hint="ask a shorter question, use a smaller top_k, or raise RAG_API__REQUEST_TIMEOUT_S",
        ),
    )


async def call_in_thread(call: Callable[[], T], cancel: CancelToken) -> T:
    """`call()` in a worker thread; its deadline's error once `cancel` expires, even while the thread
    is still busy (it stops at its next check)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), timeout=_wait(cancel))
    except TimeoutError:
        raise cancel.timeout_error() from None
    finally:
        cancel.cancel()


async def iterate_in_thread(make: Callable[[], Iterator[T]], cancel: CancelToken) -> AsyncGenerator[T, None]:
    """Yield what `make()` yields, produced in a worker thread; the deadline's error once `cancel` expires."""
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

    loop.run_in_executor(None, work)
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=_wait(cancel))
            except TimeoutError:
                raise cancel.timeout_error() from None
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        cancel.cancel()


def _wait(cancel: CancelToken) -> float | None:
    remaining = cancel.remaining()
    return None if remaining == float("inf") else max(remaining, 0.001)
