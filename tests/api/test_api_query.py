"""POST /v1/query through the real app: JSON, SSE streaming, retrieval-only, refusals, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api._apitools import QUESTION, QUESTION_SOURCE, RecordingComponents, sse_events

CITATION_FIELDS = {"id", "source", "title", "page", "section", "text", "score"}


def test_query_answers_with_citations(client: TestClient) -> None:
    response = client.post("/v1/query", json={"question": QUESTION, "collection": "default"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refused"] is False
    assert body["answer"].strip()
    assert body["citations"], body
    assert set(body["citations"][0]) >= CITATION_FIELDS
    assert body["citations"][0]["source"].endswith(QUESTION_SOURCE)
    assert [c["id"] for c in body["context"]] == list(range(1, len(body["context"]) + 1))
    assert {c["id"] for c in body["citations"]} <= {c["id"] for c in body["context"]}
    assert body["rewritten_query"]
    assert body["timings"]["total"] > 0 and "retrieve" in body["timings"]


def test_stream_sends_deltas_then_result_then_done(client: TestClient) -> None:
    with client.stream("POST", "/v1/query", json={"question": QUESTION, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.iter_lines())
    names = [name for name, _ in events]
    assert names[-2:] == ["result", "done"], names
    assert names.count("result") == 1
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert deltas and set(names[:-2]) == {"delta"}
    result = events[-2][1]
    assert result["answer"].strip() and "".join(deltas).strip()
    assert result["citations"] and result["timings"]["total"] > 0
    assert "context" in result and "refused" in result


def test_retrieval_only_returns_context_without_answer(client: TestClient) -> None:
    response = client.post(
        "/v1/query",
        json={
            "question": "remote work outside the European Union",
            "options": {"retrieval_only": True},
            "top_k": 2,
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["answer"] == "" and body["citations"] == []
    assert 1 <= len(body["context"]) <= 2
    assert any("European Union" in c["text"] for c in body["context"])
    assert "generate" not in body["timings"]


def test_filters_reach_every_search(client: TestClient) -> None:
    def sources(**filters: object) -> list[str]:
        body = {"question": QUESTION, "filters": filters, "options": {"retrieval_only": True}}
        response = client.post("/v1/query", json=body)
        assert response.status_code == 200, response.text
        return [c["source"] for c in response.json()["context"]]

    assert any(s.endswith(QUESTION_SOURCE) for s in sources())
    assert not any(s.endswith(QUESTION_SOURCE) for s in sources(file_types=["md", ".TXT"]))
    # the sample files were written after 2000 and before 2999: ISO dates, with or without a zone,
    # and epoch seconds
    assert sources(modified_after="2999-01-01") == []
    assert sources(modified_before="2000-01-01T00:00:00+08:00") == []
    assert sources(modified_after=946684800, modified_before="2999-01-01") == sources()
    response = client.post("/v1/query", json={"question": QUESTION, "filters": {"modified_after": "soon"}})
    assert response.status_code == 422
    assert "modified_after" in response.text


def test_question_not_in_documents_is_refused(client: TestClient) -> None:
    body = client.post("/v1/query", json={"question": "What is the boiling point of liquid nitrogen?"}).json()
    assert body["refused"] is True
    assert body["citations"] == []
    assert body["answer"]


def test_unknown_collection_is_404_even_when_streaming(client: TestClient) -> None:
    for stream in (False, True):
        response = client.post("/v1/query", json={"question": "hi", "collection": "nope", "stream": stream})
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["type"] == "not_found" and "nope" in error["message"]


def test_validation_errors_use_the_error_shape(client: TestClient) -> None:
    response = client.post("/v1/query", json={"collection": "default"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "validation_error" and "question" in error["message"]
    empty = client.post("/v1/query", json={"question": "   "})
    assert empty.status_code == 422 and empty.json()["error"]["message"].startswith("the question is empty")


def test_metrics_report_requests_and_stage_latency(client: TestClient) -> None:
    client.post("/v1/query", json={"question": "x", "collection": "nope"})
    client.post("/v1/query", json={"question": QUESTION, "options": {"retrieval_only": True}})
    note = ("files", ("metrics-note.md", b"# Note\n\nThe metrics note mentions nothing useful at all.\n"))
    assert client.post("/v1/collections/metrics/documents", files=[note]).status_code == 201
    text = client.get("/metrics").text
    assert 'rag_http_requests_total{method="POST",route="/v1/query",status="404"}' in text
    assert 'rag_errors_total{type="not_found"}' in text
    assert 'rag_query_stage_seconds_count{stage="retrieve"}' in text
    assert 'rag_ingest_files_total{status="added"}' in text
    assert 'rag_ingest_jobs_total{status="done"}' in text
    assert "rag_ingest_chunks_total" in text
    assert 'rag_http_request_duration_seconds_count{method="POST",route="/v1/query"}' in text


def test_history_reaches_the_pipeline(client: TestClient, recorder: RecordingComponents) -> None:
    history = [
        {"role": "user", "content": "Tell me about the NR-7 robot."},
        {"role": "assistant", "content": "The NR-7 is a warehouse robot."},
    ]
    body = {"question": "How long does its battery last?", "history": history}
    response = client.post("/v1/query", json={**body, "options": {"retrieval_only": True}})
    assert response.status_code == 200
    request = recorder.requests[-1]
    assert [(m.role, m.content) for m in request.history] == [(h["role"], h["content"]) for h in history]
    assert request.retrieval_only and response.json()["rewritten_query"]
    bad = client.post("/v1/query", json={**body, "history": [{"role": "robot", "content": "x"}]})
    assert bad.status_code == 422 and "history.0.role" in bad.json()["error"]["message"]
