"""Reading a question in its conversation: follow-ups are resolved with the earlier turns, new topics are
searched as asked, and an LLM rewrite is used only when it reads as a question about what was asked."""

from __future__ import annotations

import pytest

from rag.components import Components
from rag.query.conversation import ConversationReader, context_query, follows, is_query_for
from rag_models.llm.base import LLM, ChatMessage

ROBOT = [
    ChatMessage("user", "How fast does the Vantor X2 drone fly?"),
    ChatMessage("assistant", "Up to 60 km/h [1]."),
    ChatMessage("user", "What is its flight time?"),
    ChatMessage("assistant", "35 minutes [2]."),
]
LEAVE = [ChatMessage("user", "年假有多少天？"), ChatMessage("assistant", "每年十五天 [1]。")]


def _users(history: list[ChatMessage]) -> list[str]:
    return [m.content for m in history if m.role == "user"]


def _no_llm() -> LLM:
    raise AssertionError("the LLM must not be called")


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("And how much does it weigh?", ROBOT, True),  # a reference word
        ("Is the flight time shorter in the cold?", ROBOT, True),  # a word of an earlier question
        ("What is the capital of Portugal?", ROBOT, False),  # a new topic
        ("病假呢？", LEAVE, True),  # 呢: an elliptical follow-up
        ("这些假期可以累积吗？", LEAVE, True),
        ("公司的办公室在哪个城市？", LEAVE, False),
    ],
)
def test_a_question_follows_when_it_coheres_with_earlier_turns(
    question: str, history: list[ChatMessage], expected: bool
) -> None:
    assert follows(question, _users(history)) is expected


def test_a_follow_up_is_searched_with_the_previous_question_and_earlier_names() -> None:
    query = context_query("And how much does it weigh?", _users(ROBOT))
    assert "What is its flight time?" in query and "weigh" in query
    assert "Vantor" in query  # the conversation's subject, named two turns back


def test_a_new_topic_is_searched_as_asked_without_calling_the_llm() -> None:
    reader = ConversationReader(_no_llm, "context")
    resolution = reader.resolve("What is the capital of Portugal?", ROBOT)
    assert resolution.query == "What is the capital of Portugal?" and not resolution.follows
    follow_up = reader.resolve("And how much does it weigh?", ROBOT)
    assert follow_up.follows and follow_up.method == "context" and follow_up.context == ROBOT[2].content


def test_rewriting_off_searches_every_question_as_asked() -> None:
    resolution = ConversationReader(_no_llm, "off").resolve("And how much does it weigh?", ROBOT)
    assert resolution.query == "And how much does it weigh?" and resolution.method == "as-asked"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("How much does the Vantor X2 drone weigh?", True),
        ("Vantor X2 drone weight?", True),
        ("The Vantor X2 weighs 1.4 kg.", False),  # an answer, with a figure nobody asked about
        ("How much does it weigh [1]?", False),  # citation markers: an echoed answer
        ("What is the capital of Portugal?", False),  # not about what was asked
        ("How much does the Vantor X2 drone weigh? " * 20, False),  # rambling
    ],
)
def test_an_llm_rewrite_must_be_a_question_about_what_was_asked(text: str, ok: bool) -> None:
    asked = "And how much does it weigh?\n" + "\n".join(_users(ROBOT))
    assert is_query_for(text, asked, max_chars=300) is ok


@pytest.mark.slow
def test_llm_rewriting_with_the_bundled_model_is_guarded(components: Components) -> None:
    reader = ConversationReader(components.llm, "llm")
    resolution = reader.resolve("And how much does it weigh?", ROBOT)
    assert resolution.follows
    if resolution.method == "llm":
        asked = "And how much does it weigh?\n" + "\n".join(_users(ROBOT))
        assert is_query_for(resolution.query, asked, max_chars=400)
    else:
        assert resolution.query == context_query("And how much does it weigh?", _users(ROBOT))
