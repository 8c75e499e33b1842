"""Multi-turn over REST, as the chat page and apps use it: a change of topic is answered as if asked alone,
a follow-up is searched with what it refers to (and says so), and a later turn states no figure that its
source gives for another product than the one the conversation is about."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag_core.settings import Settings


def converse(client: TestClient, collection: str, questions: list[str]) -> list[dict[str, Any]]:
    conv_id = client.post("/v1/conversations", json={"collection": collection}).json()["id"]
    turns = []
    for question in questions:
        response = client.post(f"/v1/conversations/{conv_id}/messages", json={"content": question})
        assert response.status_code == 200, response.text
        turns.append(response.json())
    return turns


def alone(client: TestClient, collection: str, question: str) -> dict[str, Any]:
    response = client.post("/v1/query", json={"question": question, "collection": collection})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("earlier", "question"),
    [
        ("What is the capital of Australia?", "How many vacation days do we get?"),
        ("国内出差住宿费每晚上限是多少？", "公司的股票代码是什么？"),
    ],
)
def test_a_change_of_topic_is_answered_as_if_asked_alone(
    client: TestClient, api_settings: Settings, earlier: str, question: str
) -> None:
    collection = api_settings.collection
    *_, last = converse(client, collection, [earlier, question])
    expected = alone(client, collection, question)
    assert last["rewritten_query"] == question
    assert (last["answer"], last["refused"]) == (expected["answer"], expected["refused"])
    assert [c["source"] for c in last["citations"]] == [c["source"] for c in expected["citations"]]


@pytest.mark.slow
def test_a_chinese_follow_up_is_searched_with_the_question_it_follows(
    client: TestClient, api_settings: Settings
) -> None:
    turns = converse(client, api_settings.collection, ["国内出差住宿费每晚上限是多少？", "北京呢？"])
    follow_up = turns[-1]
    assert follow_up["rewritten_query"] != "北京呢？" and "住宿" in follow_up["rewritten_query"]
    assert any(c["source"].endswith("报销制度.txt") for c in follow_up["context"][:1])
    assert not follow_up["refused"] and follow_up["citations"], follow_up["answer"]


@pytest.mark.slow
def test_the_third_turn_states_no_figure_of_another_robot(client: TestClient, api_settings: Settings) -> None:
    questions = ["How fast is the NR-7?", "What is its battery life?", "What about its payload?"]
    *_, third = converse(client, api_settings.collection, questions)
    assert "NR-7" in third["rewritten_query"]
    _check_no_other_robots_figure(third["answer"])
    if not third["refused"]:
        assert third["citations"], third["answer"]

    messages: list[dict[str, str]] = []
    for question in questions:
        messages.append({"role": "user", "content": question})
        response = client.post(
            "/v1/chat/completions", json={"model": api_settings.collection, "messages": messages}
        )
        assert response.status_code == 200, response.text
        messages.append({"role": "assistant", "content": response.json()["choices"][0]["message"]["content"]})
    _check_no_other_robots_figure(messages[-1]["content"])


def _check_no_other_robots_figure(answer: str) -> None:
    """250 kg is the NR-5's payload in the sample table; the conversation is about the NR-7."""
    for sentence in re.split(r"(?<=[.!?])\s+", answer):
        assert "250" not in sentence or "NR-5" in sentence, answer
