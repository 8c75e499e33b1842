"""The models that run on a GPU, on a CUDA GPU: the transformers LLM backend (bf16 by default, 8-bit and
4-bit through bitsandbytes), the cross-encoder reranker and the embedder with `device: auto`.

Skipped where torch sees no CUDA device (CI has none). docs/gpu.md says how they were run on one."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.query.rerank import CrossEncoderReranker
from rag_core.settings import LLMSettings
from rag_models.embeddings import SentenceTransformerEmbedder
from rag_models.llm.base import ChatMessage, GenerationOptions
from rag_models.llm.hf import TransformersLLM
from tests.llm.llama3_gguf import save_as_hf_directory, write_llama3_format_gguf
from tests.query.records import make_chunk, scored
from tests.tiny_models import save_tiny_cross_encoder, save_tiny_encoder

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

QUESTION = [
    ChatMessage("system", "Answer in one short sentence."),
    ChatMessage("user", "What is the capital of France?"),
]
GREEDY = GenerationOptions(temperature=0.0, max_new_tokens=24, seed=42)
PASSAGES = [
    "The Porto supplier delivers the titanium sprockets every Monday.",
    "Steel sprockets come from a supplier in Lyon.",
    "Lunch is served at noon.",
]


def transformers_llm(**settings: object) -> TransformersLLM:
    return TransformersLLM(LLMSettings(backend="transformers", **settings))  # type: ignore[arg-type]


def linear_layers(model: object) -> set[str]:
    return {type(module).__name__ for module in model.modules() if "Linear" in type(module).__name__}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Greedy answer: "x" until max tokens."""
    return write_llama3_format_gguf(tmp_path_factory.mktemp("gguf") / "llama3-x.gguf", "x")


def test_transformers_backend_loads_on_cuda_in_bf16(tiny_gguf: Path) -> None:
    llm = transformers_llm(model=str(tiny_gguf))
    result = llm.generate([ChatMessage("user", "Hi")], GREEDY.with_(max_new_tokens=6))
    assert llm.device == "cuda" and llm.model.device.type == "cuda"
    assert llm.model.dtype == torch.bfloat16
    assert (result.text, result.finish_reason, result.completion_tokens) == ("xxxxxx", "length", 6)
    assert "loaded on cuda" in llm.status().detail


@pytest.fixture(scope="module")
def tiny_hf_dir(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_as_hf_directory(tiny_gguf, tmp_path_factory.mktemp("hf") / "llama3-x")


@pytest.mark.parametrize(("mode", "layer"), [("8bit", "Linear8bitLt"), ("4bit", "Linear4bit")])
def test_quantized_loading(tiny_hf_dir: Path, mode: str, layer: str) -> None:
    pytest.importorskip("bitsandbytes")
    llm = transformers_llm(model=str(tiny_hf_dir), quantization=mode)
    result = llm.generate([ChatMessage("user", "Hi")], GREEDY.with_(max_new_tokens=4))
    assert layer in linear_layers(llm.model)
    assert result.text == "xxxx" and llm.device == "cuda"


@pytest.mark.slow
def test_bundled_smollm2_answers_on_cuda() -> None:
    llm = transformers_llm()
    result = llm.generate(QUESTION, GREEDY)
    assert "Paris" in result.text and llm.device == "cuda"
    assert "".join(llm.stream(QUESTION, GREEDY)) == result.text


def test_cross_encoder_on_cuda_scores_like_on_cpu(tmp_path: Path) -> None:
    model = str(save_tiny_cross_encoder(tmp_path / "ce"))
    hits = scored(*(make_chunk(f"p{i}", text) for i, text in enumerate(PASSAGES)))
    question = "Which supplier delivers the titanium sprockets?"
    on_gpu = CrossEncoderReranker(model, device="auto").rerank(question, hits, top_n=3)
    on_cpu = CrossEncoderReranker(model, device="cpu").rerank(question, hits, top_n=3)
    assert [h.chunk.id for h in on_gpu] == [h.chunk.id for h in on_cpu]
    assert [h.score for h in on_gpu] == pytest.approx([h.score for h in on_cpu], abs=1e-3)


def test_embedder_on_cuda_embeds_like_on_cpu(tmp_path: Path) -> None:
    model = str(save_tiny_encoder(tmp_path / "encoder"))
    on_gpu = SentenceTransformerEmbedder(model, device="auto")
    vectors = on_gpu.embed_array(PASSAGES)
    assert on_gpu.model.device.type == "cuda"
    reference = SentenceTransformerEmbedder(model, device="cpu").embed_array(PASSAGES)
    assert vectors.shape == reference.shape == (3, on_gpu.dimension)
    assert vectors == pytest.approx(reference, abs=1e-3)
