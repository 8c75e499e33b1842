"""Our LLMs as LangChain chat models, composed in real LCEL chains."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core import messages as lc
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from rag_core.errors import InvalidInputError
from rag_core.settings import LLMSettings
from rag_models.llm.base import LLM, ChatMessage, GenerationOptions
from rag_models.llm.factory import build_llm
from rag_models.llm.langchain_chat import LangChainChatModel, to_chat_messages

PROMPT = ChatPromptTemplate.from_messages(
    [("system", "Answer in one short sentence."), ("human", "What is the capital of {country}?")]
)
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=24, seed=42)


def test_lcel_chain_with_the_bundled_model(smollm2: LLM) -> None:
    chain = PROMPT | LangChainChatModel(llm=smollm2, options=GREEDY) | StrOutputParser()
    answer = chain.invoke({"country": "France"})
    assert "Paris" in answer
    assert "".join(chain.stream({"country": "France"})) == answer


def test_stop_and_options_bind_per_call(smollm2: LLM) -> None:
    model = LangChainChatModel(llm=smollm2, options=GREEDY)
    full = (PROMPT | model | StrOutputParser()).invoke({"country": "France"})
    stopped = (PROMPT | model.bind(stop=["Paris"]) | StrOutputParser()).invoke({"country": "France"})
    assert stopped == full[: full.index("Paris")]
    message = (PROMPT | model.bind(max_new_tokens=3)).invoke({"country": "France"})
    assert isinstance(message, lc.AIMessage)
    assert message.response_metadata["finish_reason"] == "length"
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] == 3


def test_token_counting_uses_the_model_tokenizer(smollm2: LLM) -> None:
    model = LangChainChatModel(llm=smollm2)
    messages = [lc.HumanMessage("What is the capital of France?")]
    assert model.get_num_tokens_from_messages(messages) == smollm2.count_tokens(to_chat_messages(messages))


def test_chain_over_ollama(ollama_server: Any) -> None:
    llm = build_llm(LLMSettings(backend="ollama", base_url=ollama_server.url))
    chain = PROMPT | LangChainChatModel(llm=llm) | StrOutputParser()
    assert chain.invoke({"country": "Peru"}) == "You said: What is the capital of Peru?"
    assert list(chain.stream({"country": "Peru"}))[:2] == ["You", " said:"]
    assert LangChainChatModel(llm=llm)._llm_type == "rag-ollama"


def test_message_conversion() -> None:
    converted = to_chat_messages(
        [
            lc.SystemMessage("s"),
            lc.HumanMessage("h"),
            lc.AIMessage("a"),
            lc.ChatMessage(role="user", content="c"),
        ]
    )
    assert converted == [
        ChatMessage("system", "s"),
        ChatMessage("user", "h"),
        ChatMessage("assistant", "a"),
        ChatMessage("user", "c"),
    ]
    with pytest.raises(InvalidInputError):
        to_chat_messages([lc.ToolMessage("t", tool_call_id="1")])
