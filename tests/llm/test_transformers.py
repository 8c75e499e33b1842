"""The transformers backend: real generation on CPU with the bundled SmolLM2 GGUF (dequantised by
transformers, slow), plus LoRA adapters, quantization and missing-model errors on a tiny Llama GGUF."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_core.cancel import CancelToken
from rag_core.errors import BackendUnavailable, ConfigError, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions
from rag_models.llm.factory import build_llm, describe
from rag_models.llm.hf import TransformersLLM
from tests.llm.llama3_gguf import save_as_hf_directory

QUESTION = [
    ChatMessage("system", "Answer in one short sentence."),
    ChatMessage("user", "What is the capital of France?"),
]
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=24, seed=42)
MESSAGES = [ChatMessage("user", "Hi")]


def make(**settings: object) -> TransformersLLM:
    llm = build_llm(LLMSettings(backend="transformers", **settings))  # type: ignore[arg-type]
    assert isinstance(llm, TransformersLLM)
    return llm


@pytest.fixture(scope="module")
def smollm2_hf() -> Iterator[TransformersLLM]:
    llm = make()
    llm.warm_up()
    yield llm


@pytest.mark.slow
def test_generates_an_answer_on_cpu(smollm2_hf: TransformersLLM) -> None:
    assert smollm2_hf.device == "cpu"
    result = smollm2_hf.generate(QUESTION, GREEDY)
    assert "Paris" in result.text
    assert result.prompt_tokens == smollm2_hf.count_tokens(QUESTION)
    assert 0 < result.completion_tokens <= 24
    status = describe(smollm2_hf)
    assert status.ready and status.context_window == 8192 and "loaded on cpu" in status.detail


@pytest.mark.slow
def test_stream_matches_generate(smollm2_hf: TransformersLLM) -> None:
    deltas = list(smollm2_hf.stream(QUESTION, GREEDY))
    assert len(deltas) > 1
    assert "".join(deltas) == smollm2_hf.generate(QUESTION, GREEDY).text


@pytest.mark.slow
def test_counts_tokens_like_llama_cpp(smollm2_hf: TransformersLLM, smollm2: object) -> None:
    from rag_models.llm.llamacpp import LlamaCppLLM

    assert isinstance(smollm2, LlamaCppLLM)
    long = [
        ChatMessage("system", "Use the context."),
        ChatMessage("user", "Context: " + "the river bank " * 50),
    ]
    assert smollm2_hf.count_tokens(long) == smollm2.count_tokens(long)


@pytest.mark.slow
def test_max_tokens_and_stop(smollm2_hf: TransformersLLM) -> None:
    story = [ChatMessage("user", "Write a long story about a dragon.")]
    result = smollm2_hf.generate(story, GREEDY.with_(max_new_tokens=5))
    assert (result.finish_reason, result.completion_tokens) == ("length", 5)
    full = smollm2_hf.generate(QUESTION, GREEDY).text
    stopped = smollm2_hf.generate(QUESTION, GREEDY.with_(stop=("Paris",)))
    assert stopped.text == full[: full.index("Paris")] and stopped.finish_reason == "stop"


@pytest.mark.slow
def test_cancellation_and_queueing(smollm2_hf: TransformersLLM) -> None:
    cancel = CancelToken()
    deltas = []
    story = [ChatMessage("user", "Write a long story about a dragon.")]
    for delta in smollm2_hf.stream(story, GREEDY.with_(max_new_tokens=300), cancel=cancel):
        deltas.append(delta)
        if len(deltas) == 2:
            cancel.cancel()
    assert len(deltas) == 2
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(smollm2_hf.generate(QUESTION, GREEDY).text))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]


def test_lora_adapter_changes_the_answer(llama3_gguf_x: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(llama3_gguf_x.parent), gguf_file=llama3_gguf_x.name)
    peft_model = get_peft_model(base, LoraConfig(r=1, lora_alpha=1, target_modules=["lm_head"]))
    with torch.no_grad():
        layer = peft_model.base_model.model.lm_head
        layer.lora_A["default"].weight.zero_()
        layer.lora_A["default"].weight[0, 0] = 1.0
        layer.lora_B["default"].weight.zero_()
        layer.lora_B["default"].weight[ord("y"), 0] = 100.0
    peft_model.save_pretrained(str(tmp_path / "adapter"), save_embedding_layers=False)

    greedy = GenerationOptions(temperature=0.0, max_new_tokens=3, repetition_penalty=1.0)
    assert make(model=str(llama3_gguf_x)).generate(MESSAGES, greedy).text == "xxx"
    tuned = make(model=str(llama3_gguf_x), adapter_path=str(tmp_path / "adapter"))
    assert tuned.generate(MESSAGES, greedy).text == "yyy"
    assert "adapter" in tuned.status().detail


def test_missing_adapter(llama3_gguf: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as info:
        make(model=str(llama3_gguf), adapter_path=str(tmp_path)).warm_up()
    assert "RAG_LLM__ADAPTER_PATH" in info.value.hint


@pytest.fixture(scope="module")
def llama3_hf_dir(llama3_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama-3-format model as a Hugging Face directory (safetensors), as 8/4-bit loading needs."""
    return save_as_hf_directory(llama3_gguf, tmp_path_factory.mktemp("hf") / "llama3")


def test_quantization_needs_cuda(llama3_hf_dir: Path) -> None:
    with pytest.raises(ConfigError, match="needs a CUDA GPU"):
        make(model=str(llama3_hf_dir), quantization="4bit", device="cpu").warm_up()


def test_quantization_needs_bitsandbytes(llama3_hf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "bitsandbytes", None)
    with pytest.raises(BackendUnavailable) as info:
        make(model=str(llama3_hf_dir), quantization="8bit", device="cuda").warm_up()
    assert info.value.hint == "pip install bitsandbytes"


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_quantizing_a_gguf_file_is_a_config_error(llama3_gguf: Path, device: str) -> None:
    """transformers refuses to quantize a GGUF file (seen on a CUDA GPU): say so before loading."""
    with pytest.raises(ConfigError, match="does not apply to a GGUF file") as info:
        make(model=str(llama3_gguf), quantization="4bit", device=device).warm_up()
    assert "RAG_LLM__BACKEND=llamacpp" in info.value.hint


def test_model_not_downloaded() -> None:
    llm = make(model="meta-llama/Meta-Llama-3-8B-Instruct")
    status = llm.status()
    assert not status.ready and "Hugging Face cache" in status.detail
    with pytest.raises(ModelNotFound) as info:
        llm.warm_up()
    assert "HF_TOKEN" in info.value.hint


def test_device_and_dtype_choice() -> None:
    import torch

    llm = make()
    assert llm._pick_device(torch) in ("cpu", "cuda", "mps")
    assert llm._pick_dtype(torch, "cpu") == torch.float32
    assert make(dtype="bfloat16")._pick_dtype(torch, "cpu") == torch.bfloat16
    assert make(device="cpu")._pick_device(torch) == "cpu"


def test_status_reads_the_window_without_loading(llama3_gguf: Path) -> None:
    llm = make()
    status = llm.status()
    assert status.ready and status.context_window == 8192 and "loads on first use" in status.detail
    tiny = make(model=str(llama3_gguf))
    assert tiny.context_window == 2048
    assert llm.model is None and tiny.model is None


def test_every_generation_runs_on_one_worker_thread(llama3_gguf_x: Path) -> None:
    """CUDA work in a fresh thread pays a set-up of seconds (docs/gpu.md): answers share one thread, and
    warm-up pays its set-up before the first question."""
    llm = make(model=str(llama3_gguf_x))
    llm.warm_up()
    threads: list[int] = []
    generate = llm.model.generate

    def recording(*args: object, **kwargs: object) -> object:
        threads.append(threading.get_ident())
        return generate(*args, **kwargs)

    llm.model.generate = recording
    for _ in range(2):
        llm.generate(MESSAGES, GREEDY.with_(max_new_tokens=2))
    assert "".join(llm.stream(MESSAGES, GREEDY.with_(max_new_tokens=2))) == "xx"
    assert len(threads) == 3 and len(set(threads)) == 1 and threads[0] != threading.get_ident()
    assert llm._worker.submit(threading.get_ident).result() == threads[0]
