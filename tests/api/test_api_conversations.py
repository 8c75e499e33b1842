"""Conversations: create, ask (plain and streamed), history used for rewriting, durable across restarts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from rag.components import Components
from rag_core.settings import Settings
from tests.api._apitools import QUESTION, RecordingComponents, sse_events, variant


def test_conversation_keeps_history_and_survives_a_restart(
    client: TestClient, recorder: RecordingComponents, api_settings: Settings
) -> None:
    created = client.post("/v1/conversations", json={"collection": "default"})
    assert created.status_code == 201
    conv_id = created.json()["id"]

    first = client.post(f"/v1/conversations/{conv_id}/messages", json={"content": QUESTION})
    assert first.status_code == 200, first.text
    turn = first.json()
    assert turn["conversation_id"] == conv_id
    assert turn["message"]["role"] == "assistant" and turn["message"]["content"] == turn["answer"]
    assert recorder.requests[-1].history == ()

    follow_up = "And how long does a full charge take?"
    with client.stream(
        "POST", f"/v1/conversations/{conv_id}/messages", json={"content": follow_up, "stream": True}
    ) as response:
        assert response.status_code == 200
        events = sse_events(response.iter_lines())
    assert [n for n, _ in events][-2:] == ["result", "done"]
    result = events[-2][1]
    assert result["message"]["id"] > turn["message"]["id"]
    history = recorder.requests[-1].history
    assert [(m.role, m.content) for m in history] == [("user", QUESTION), ("assistant", turn["answer"])]

    listed = client.get("/v1/conversations").json()
    summary = next(c for c in listed if c["id"] == conv_id)
    assert summary["message_count"] == 4 and summary["title"].startswith("How long does the NR-7")

    settings = variant(api_settings, warm_up=False)
    restarted = create_app(settings, Components(settings))
    with TestClient(restarted) as fresh:
        stored = fresh.get(f"/v1/conversations/{conv_id}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]
    assert stored["messages"][2]["content"] == follow_up
    assert stored["messages"][1]["citations"] == turn["citations"]
    assert stored["messages"][3]["content"] == result["answer"]


def test_delete_conversation(client: TestClient) -> None:
    conv_id = client.post("/v1/conversations", json={"title": "to delete"}).json()["id"]
    assert client.get(f"/v1/conversations/{conv_id}").json()["title"] == "to delete"
    assert client.delete(f"/v1/conversations/{conv_id}").status_code == 204
    missing = client.get(f"/v1/conversations/{conv_id}")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
    assert client.delete(f"/v1/conversations/{conv_id}").status_code == 404
    assert client.post(f"/v1/conversations/{conv_id}/messages", json={"content": "hi"}).status_code == 404


def test_a_failed_question_is_not_stored(client: TestClient) -> None:
    conv_id = client.post("/v1/conversations", json={"collection": "does-not-exist"}).json()["id"]
    response = client.post(f"/v1/conversations/{conv_id}/messages", json={"content": "hello?"})
    assert response.status_code == 404
    assert client.get(f"/v1/conversations/{conv_id}").json()["messages"] == []


def test_regenerate_answers_the_last_question_again_in_place(
    client: TestClient, recorder: RecordingComponents
) -> None:
    conv_id = client.post("/v1/conversations", json={"collection": "default"}).json()["id"]
    empty = client.post(f"/v1/conversations/{conv_id}/regenerate", json={})
    assert empty.status_code == 422 and "no question" in empty.json()["error"]["message"]
    first = client.post(f"/v1/conversations/{conv_id}/messages", json={"content": QUESTION}).json()
    follow_up = "And how long does a full charge take?"
    second = client.post(f"/v1/conversations/{conv_id}/messages", json={"content": follow_up}).json()

    with client.stream("POST", f"/v1/conversations/{conv_id}/regenerate", json={"stream": True}) as response:
        assert response.status_code == 200
        events = sse_events(response.iter_lines())
    assert [n for n, _ in events][-2:] == ["result", "done"]
    result = events[-2][1]
    # The same question, with the same history as the first time (not its own old answer).
    assert result["question_message"] == second["question_message"]
    history = recorder.requests[-1].history
    assert recorder.requests[-1].question == follow_up
    assert [(m.role, m.content) for m in history] == [("user", QUESTION), ("assistant", first["answer"])]
    stored = client.get(f"/v1/conversations/{conv_id}").json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[3]["id"] == result["message"]["id"] > second["message"]["id"]
    assert stored[3]["content"] == result["answer"]
    assert client.post("/v1/conversations/nope/regenerate", json={}).status_code == 404
