"""API keys, every limit, and the error shape for 4xx, 500 and 503 (never a stack trace)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.components import Components
from rag_core.settings import ChromaSettings, LLMSettings, Settings
from tests.api._apitools import QUESTION, RecordingComponents, variant

KEY = "test-key-123"


@pytest.fixture(scope="module")
def secured(api_settings: Settings, components: RecordingComponents) -> Iterator[TestClient]:
    settings = variant(
        api_settings,
        api_keys=[KEY, "second-key"],
        warm_up=False,
        max_question_chars=200,
        max_files=2,
        max_upload_mb=0.01,
    )
    same_store = RecordingComponents(settings, embedder=components.embedder, index=components.index)
    with TestClient(create_app(settings, same_store)) as client:  # the pipeline checks the question limit
        yield client


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_missing_or_wrong_key_is_401(secured: TestClient) -> None:
    protected = [
        ("GET", "/v1/collections"),
        ("POST", "/v1/query"),
        ("GET", "/metrics"),
        ("GET", "/v1/conversations"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/jobs/x"),
        ("DELETE", "/v1/collections/default/documents/x"),
    ]
    for method, path in protected:
        response = secured.request(method, path, json={})
        assert response.status_code == 401, path
        assert response.json()["error"]["type"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    wrong = secured.get("/v1/collections", headers=auth("nope"))
    assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]["message"]
    assert secured.get("/v1/collections", headers={"Authorization": f"Basic {KEY}"}).status_code == 401


def test_valid_keys_in_either_header(secured: TestClient) -> None:
    assert secured.get("/v1/collections", headers=auth()).status_code == 200
    assert secured.get("/v1/collections", headers=auth("second-key")).status_code == 200
    assert secured.get("/v1/collections", headers={"X-API-Key": KEY}).status_code == 200


def test_health_and_page_need_no_key(secured: TestClient) -> None:
    assert secured.get("/healthz").json()["status"] == "ok"
    assert secured.get("/readyz").status_code in (200, 503)
    page = secured.get("/")
    assert page.status_code == 200 and "<html" in page.text


def test_question_length_limit(secured: TestClient) -> None:
    response = secured.post("/v1/query", json={"question": "why " * 60}, headers=auth())
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["type"] == "limit_exceeded" and "limit is 200" in error["message"]


def test_upload_size_limit(secured: TestClient) -> None:
    big = b"a" * 11_000
    url = "/v1/collections/limits/documents"
    response = secured.post(url, files={"files": ("big.txt", big)}, headers=auth())
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "limit_exceeded"
    assert "MB limit" in response.json()["error"]["message"]
    multipart = {"Content-Type": "multipart/form-data; boundary=x"}
    declared = secured.post(
        url, content=b"x", headers={**auth(), **multipart, "Content-Length": str(50 * 1024 * 1024)}
    )
    assert declared.status_code == 413


def test_files_per_request_limit(secured: TestClient) -> None:
    files = [("files", (f"f{i}.txt", b"hello world", "text/plain")) for i in range(3)]
    response = secured.post("/v1/collections/limits/documents", files=files, headers=auth())
    assert response.status_code == 413
    assert "at most 2" in response.json()["error"]["message"]


def test_upload_without_files(secured: TestClient) -> None:
    response = secured.post("/v1/collections/limits/documents", data={"x": "1"}, headers=auth())
    assert response.status_code == 422 and "no files" in response.json()["error"]["message"]


def test_request_timeout(api_settings: Settings, components: RecordingComponents) -> None:
    settings = variant(api_settings, warm_up=False, request_timeout_s=0.05)
    with TestClient(create_app(settings, components)) as client:
        response = client.post("/v1/query", json={"question": QUESTION})
    assert response.status_code == 408
    error = response.json()["error"]
    assert error["type"] == "request_timeout" and "0.05 s" in error["message"]
    assert components.cancels and components.cancels[-1].cancelled  # the worker stops at its next check


def test_unknown_route_uses_the_error_shape(secured: TestClient) -> None:
    response = secured.get("/v1/nothing-here", headers=auth())
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"


class ExplodingComponents(Components):
    def query_pipeline(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")


def test_unexpected_errors_are_500_without_details(api_settings: Settings) -> None:
    settings = variant(api_settings, warm_up=False)
    app = create_app(settings, ExplodingComponents(settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/query", json={"question": "anything"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "internal_error" and error["message"].startswith("internal server error")
    assert "secret" not in response.text and "Traceback" not in response.text


def test_a_stream_that_fails_midway_ends_with_an_error_event(
    api_settings: Settings, components: RecordingComponents
) -> None:
    """SSE of /v1/query and of the OpenAI-compatible endpoint: a backend that crashes after its first
    tokens ends the stream with an error event that names the stage, without a traceback."""
    settings = variant(api_settings, warm_up=False)
    components.deltas, components.fail_after = 0, 1
    try:
        with TestClient(create_app(settings, components)) as client:
            native = client.post("/v1/query", json={"question": QUESTION, "stream": True})
            components.deltas = 0
            chat = client.post(
                "/v1/chat/completions",
                json={
                    "model": settings.collection,
                    "messages": [{"role": "user", "content": QUESTION}],
                    "stream": True,
                },
            )
    finally:
        components.fail_after = None
    native_events = [line for line in native.text.splitlines() if line.startswith("event:")]
    assert native.status_code == 200 and native_events[-1] == "event: error", native.text
    assert "RuntimeError" in native.text.rsplit("event: error", 1)[1]  # which stage failed, and how
    chat_data = [line for line in chat.text.splitlines() if line.startswith("data:")]
    assert chat.status_code == 200 and '"error"' in chat_data[-1] and "RuntimeError" in chat_data[-1]
    assert "[DONE]" not in chat.text  # a client does not take the cut answer for a whole one
    for response in (native, chat):
        assert "Traceback" not in response.text


def test_backend_failures_are_503_with_what_to_fix(
    tmp_path_factory: pytest.TempPathFactory, components: RecordingComponents
) -> None:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("broken"),
        chroma=ChromaSettings(url="http://127.0.0.1:9"),
        llm=LLMSettings(model="/nonexistent/model.gguf"),
        api_keys=[],
    )
    settings = variant(settings, warm_up=False)
    broken = Components(settings, embedder=components.embedder)
    with TestClient(create_app(settings, broken)) as client:
        assert client.post("/v1/collections", json={"name": "kb"}).status_code == 201
        response = client.post("/v1/query", json={"question": "hello there", "collection": "kb"})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["type"] == "vector_store_unavailable"
        assert "http://127.0.0.1:9" in error["message"] and "chroma run" in error["message"]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert not checks["vector_store"]["ok"] and not checks["llm"]["ok"]
        assert "RAG_LLM__MODEL" in checks["llm"]["detail"]


def test_llm_failure_is_503_with_what_to_fix(api_settings: Settings, components: RecordingComponents) -> None:
    settings = variant(api_settings.model_copy(update={"llm": LLMSettings(model="/nonexistent/model.gguf")}))
    settings = variant(settings, warm_up=False)
    no_model = Components(
        settings, embedder=components.embedder, index=components.index, reranker=components.reranker
    )
    with TestClient(create_app(settings, no_model)) as client:
        for stream in (False, True):
            response = client.post("/v1/query", json={"question": QUESTION, "stream": stream})
            if stream and response.status_code == 200:
                assert "event: error" in response.text and "model_not_found" in response.text
                continue
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["type"] == "model_not_found" and "RAG_LLM__MODEL" in error["message"]


def test_openapi_docs_are_served(secured: TestClient) -> None:
    spec = secured.get("/openapi.json").json()
    assert {"/v1/query", "/v1/chat/completions", "/v1/collections/{collection}/documents"} <= set(
        spec["paths"]
    )
    docs = secured.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    if importlib.util.find_spec("fastapi_offline") is not None:
        assert "cdn." not in docs.text
        assert secured.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
