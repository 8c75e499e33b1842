"""The Llama-3 Instruct prompt format, checked against the official format from the Llama-3 model card:

    <|begin_of_text|><|start_header_id|>system<|end_header_id|>\\n\\n{system}<|eot_id|>
    <|start_header_id|>user<|end_header_id|>\\n\\n{user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\\n\\n

Llama-3 weights are not available offline, so a tiny GGUF with Llama-3's special tokens, BOS handling and the
official chat template (tests/llm/conftest.py) goes through both in-process backends: llama.cpp reads the
template from the GGUF metadata, transformers converts the GGUF tokenizer and applies it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions
from rag_models.llm.common import END_OF_TURN_MARKERS, StopFilter
from rag_models.llm.factory import build_llm
from rag_models.llm.hf import TransformersLLM
from rag_models.llm.llamacpp import LlamaCppLLM

MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
OFFICIAL = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)
# 1 BOS; system: header (1 + 6 bytes + 1) + "\n\n" + 9 bytes + eot = 20; user: 1 + 4 + 1 + 2 + 2 + 1 = 11;
# assistant header: 1 + 9 + 1 + 2 = 13. Special tokens count once each (byte-level vocabulary otherwise).
OFFICIAL_TOKENS = 45
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=6, repetition_penalty=1.0)


def backends(path: Path) -> list[LlamaCppLLM | TransformersLLM]:
    llamacpp = build_llm(LLMSettings(backend="llamacpp", model=str(path)))
    transformers = build_llm(LLMSettings(backend="transformers", model=str(path)))
    assert isinstance(llamacpp, LlamaCppLLM) and isinstance(transformers, TransformersLLM)
    return [llamacpp, transformers]


@pytest.fixture(scope="module")
def eot_models(llama3_gguf: Path) -> list[LlamaCppLLM | TransformersLLM]:
    return backends(llama3_gguf)


@pytest.mark.parametrize("index", [0, 1], ids=["llamacpp", "transformers"])
def test_prompt_matches_the_official_format(
    eot_models: list[LlamaCppLLM | TransformersLLM], index: int
) -> None:
    llm = eot_models[index]
    assert llm.render_prompt(MESSAGES) == OFFICIAL
    assert llm.count_tokens(MESSAGES) == OFFICIAL_TOKENS


@pytest.mark.parametrize("index", [0, 1], ids=["llamacpp", "transformers"])
def test_multi_turn_header_order(eot_models: list[LlamaCppLLM | TransformersLLM], index: int) -> None:
    turns = [*MESSAGES, ChatMessage("assistant", "Hello!"), ChatMessage("user", "Bye")]
    prompt = eot_models[index].render_prompt(turns)
    assert prompt.count("<|begin_of_text|>") == 1 and prompt.startswith("<|begin_of_text|>")
    headers = [part.split("<|end_header_id|>")[0] for part in prompt.split("<|start_header_id|>")[1:]]
    assert headers == ["system", "user", "assistant", "user", "assistant"]
    assert prompt.count("<|eot_id|>") == 4
    assert prompt.endswith("Bye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


@pytest.mark.parametrize("index", [0, 1], ids=["llamacpp", "transformers"])
def test_eot_id_ends_the_answer(eot_models: list[LlamaCppLLM | TransformersLLM], index: int) -> None:
    result = eot_models[index].generate(MESSAGES, GREEDY)
    assert (result.text, result.finish_reason) == ("", "stop")


@pytest.mark.parametrize("index", [0, 1], ids=["llamacpp", "transformers"])
def test_control_model_without_eot_runs_to_max_tokens(llama3_gguf_x: Path, index: int) -> None:
    result = backends(llama3_gguf_x)[index].generate(MESSAGES, GREEDY)
    assert (result.text, result.finish_reason) == ("xxxxxx", "length")


def test_stop_handling_includes_eot_id(eot_models: list[LlamaCppLLM | TransformersLLM]) -> None:
    llamacpp, transformers = eot_models
    assert "<|eot_id|>" in END_OF_TURN_MARKERS
    assert (
        "<|eot_id|>"
        in llamacpp.request(MESSAGES, GenerationOptions().with_(stop=llamacpp.extra_stops))["stop"]
    )
    vocab = transformers.tokenizer.get_vocab()
    assert vocab["<|eot_id|>"] in transformers.terminators
    assert vocab["<|end_of_text|>"] in transformers.terminators
    leaked = StopFilter(END_OF_TURN_MARKERS)
    assert leaked.feed("Paris.<|eot_id|><|start_header_id|>user") == "Paris." and leaked.stopped


def test_settings_can_override_the_template(llama3_template: str) -> None:
    llm = build_llm(LLMSettings(chat_template=llama3_template))
    assert isinstance(llm, LlamaCppLLM)
    prompt = llm.render_prompt(MESSAGES)
    assert "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" in prompt
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_settings_can_name_a_llama_cpp_builtin_template(llama3_gguf: Path) -> None:
    llm = build_llm(LLMSettings(model=str(llama3_gguf), chat_template="llama3"))
    assert isinstance(llm, LlamaCppLLM)
    assert llm.render_prompt(MESSAGES) == OFFICIAL
