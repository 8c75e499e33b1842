"""A real uvicorn server: the official `openai` SDK (plain and streaming), and a client that disconnects
mid-stream cancels its generation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from api.app import create_app
from rag_core.settings import Settings
from tests.api._apitools import QUESTION, QUESTION_SOURCE, RecordingComponents, ServerThread, variant

pytestmark = pytest.mark.integration
KEY = "sdk-key"


@pytest.fixture(scope="module")
def server(api_settings: Settings, components: RecordingComponents) -> Iterator[ServerThread]:
    app = create_app(variant(api_settings, api_keys=[KEY], warm_up=False), components)
    with ServerThread(app) as running:
        yield running


@pytest.fixture()
def sdk(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=300)


def test_sdk_chat_completion(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="default",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
    )
    assert completion.object == "chat.completion" and completion.model == "default"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    text = choice.message.content or ""
    citations = (completion.model_extra or {})["citations"]
    assert citations and citations[0]["source"].endswith(QUESTION_SOURCE)
    assert f"[{citations[0]['id']}]" in text
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0
    # the tokens the model generated (issue 20: reported as 0): at least the answer's own words, at most
    # the answer budget
    assert len(text.split()) // 2 < usage.completion_tokens <= Settings().answer.max_new_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_sdk_streaming(sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model="default",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(finals) == 1
    citations = (finals[0].model_extra or {})["citations"]
    assert text.strip() and citations
    assert f"[{citations[0]['id']}]" in text
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0
    assert len(text.split()) // 2 < usage.completion_tokens <= Settings().answer.max_new_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_sdk_models_and_errors(sdk: openai.OpenAI, server: ServerThread) -> None:
    assert "default" in {m.id for m in sdk.models.list()}
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="no-such-kb", messages=[{"role": "user", "content": "hi"}])
    assert "no-such-kb" in str(missing.value)
    stranger = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.chat.completions.create(model="default", messages=[{"role": "user", "content": "hi"}])


def test_disconnect_mid_stream_cancels_generation(
    server: ServerThread, recorder: RecordingComponents
) -> None:
    recorder.delay = 0.5
    body = {"question": QUESTION, "stream": True}
    headers = {"X-API-Key": KEY}
    with (
        httpx.Client(base_url=server.url, timeout=120) as http,
        http.stream("POST", "/v1/query", json=body, headers=headers) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: delta"):
                break
    deadline = time.monotonic() + 20
    while not (recorder.cancels and recorder.cancels[-1].cancelled) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert recorder.cancels and recorder.cancels[-1].cancelled
    produced = recorder.deltas
    time.sleep(2)
    assert recorder.deltas <= produced + 1


def test_event_loop_stays_free_and_concurrent_requests_queue(
    server: ServerThread, recorder: RecordingComponents
) -> None:
    recorder.delay = 0.2
    headers = {"X-API-Key": KEY}
    results: list[int] = []

    def ask() -> None:
        with httpx.Client(base_url=server.url, timeout=300) as http:
            results.append(http.post("/v1/query", json={"question": QUESTION}, headers=headers).status_code)

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for thread in askers:
        thread.start()
    while recorder.deltas == 0 and any(t.is_alive() for t in askers):
        time.sleep(0.05)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        started = time.perf_counter()
        assert http.get("/healthz").status_code == 200
        assert http.get("/v1/collections", headers=headers).status_code == 200
        assert time.perf_counter() - started < 1.0
    for thread in askers:
        thread.join(timeout=300)
    assert results == [200, 200]
