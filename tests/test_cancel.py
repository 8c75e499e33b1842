"""The one token that carries a request's cancellation and deadline."""

from __future__ import annotations

import time

import pytest

from rag_core.cancel import CancelToken
from rag_core.errors import GenerationTimeout, RequestTimeout


def test_a_token_without_deadline_only_ends_when_cancelled() -> None:
    token = CancelToken()
    assert not token.cancelled and not token.expired
    assert token.remaining() == float("inf")
    token.check()
    token.cancel()
    assert token.cancelled and not token.expired
    token.check()  # cancelled is quiet: nobody waits for the result


def test_an_expired_token_raises_its_error() -> None:
    token = CancelToken(0.01, RequestTimeout("too long"))
    time.sleep(0.03)
    assert token.cancelled and token.expired and token.remaining() == 0.0
    with pytest.raises(RequestTimeout):
        token.check()


def test_a_narrowed_token_shares_cancellation_and_raises_the_earlier_deadlines_error() -> None:
    request = CancelToken(0.01, RequestTimeout("request"))
    model = request.narrowed(60, GenerationTimeout("model"))
    time.sleep(0.03)
    with pytest.raises(RequestTimeout):
        model.check()

    request = CancelToken(60, RequestTimeout("request"))
    model = request.narrowed(0.01, GenerationTimeout("model"))
    time.sleep(0.03)
    with pytest.raises(GenerationTimeout):
        model.check()
    assert not request.cancelled
    request.cancel()
    assert model.cancelled
