"""One token carries a request's cancellation and its deadline from the API down to the model backends.

    token = CancelToken(300, RequestTimeout("the request took longer than 300 s", hint=...))
    token.check()                  # between stages: raises that error once the deadline has passed
    token.cancelled                # True once cancelled (client gone) or past the deadline
    narrow = token.narrowed(120, GenerationTimeout(...))   # a backend's own, shorter limit

A cancelled token stops work quietly (nobody waits for the result); an expired one raises the error
of whichever deadline passed first.
"""

from __future__ import annotations

import math
import threading
import time


class CancelToken:
    def __init__(
        self,
        timeout_s: float | None = None,
        error: Exception | None = None,
        *,
        _event: threading.Event | None = None,
        _deadline: float | None = None,
    ) -> None:
        self._event = _event or threading.Event()
        self.deadline = _deadline if _deadline is not None else math.inf
        if timeout_s:
            self.deadline = min(self.deadline, time.monotonic() + timeout_s)
        self._error = error

    def cancel(self) -> None:
        self._event.set()

    @property
    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or self.expired

    def remaining(self) -> float:
        """Seconds left before the deadline (infinite without one, never below zero)."""
        return max(self.deadline - time.monotonic(), 0.0)

    def narrowed(self, timeout_s: float, error: Exception) -> CancelToken:
        """A token cancelled with this one, whose deadline is the earlier of this one's and `timeout_s`
        from now; when it expires it raises the error of the deadline that passed."""
        own = time.monotonic() + timeout_s
        if own >= self.deadline:
            return CancelToken(_event=self._event, _deadline=self.deadline, error=self._error)
        return CancelToken(_event=self._event, _deadline=own, error=error)

    def timeout_error(self) -> Exception:
        return self._error or TimeoutError("the deadline passed")

    def check(self) -> None:
        """Raise the deadline's error once it has passed."""
        if self.expired:
            raise self.timeout_error()
