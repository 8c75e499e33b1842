"""Speed on a CUDA GPU with the shapes of the models a real user configures, through our own wrappers:

- Meta-Llama-3-8B-Instruct (Llama architecture, 32 layers, 4096 wide, 128,256-token vocabulary) through the
  transformers backend: load time, time to first token and decode rate for RAG-sized prompts and a
  160-token answer (the default answer budget), in bf16 and, with bitsandbytes, 8-bit and 4-bit;
- a BAAI/bge-m3-sized embedder (XLM-RoBERTa large: 24 layers, 1024 wide) through SentenceTransformerEmbedder:
  chunks embedded per second, as ingest does;
- a BAAI/bge-reranker-v2-m3-sized cross-encoder (the same encoder, one logit) through CrossEncoderReranker:
  latency of reranking the 20 fused candidates a question gets.

No model hub can be reached where this runs, so the models are randomly initialised with the real configs
(speed does not depend on the weights' values; a random LLM never emits end-of-turn, so every answer runs to
max tokens, the worst case). The tokenizers are the bundled ones (SmolLM2's BPE for the LLM, MiniLM's
WordPiece for the encoders); token counts are those of the runs, reported beside each figure.

    python benchmarks/gpu_shapes.py --json gpu-shapes.json [--loading none,4bit] [--skip-llm|--skip-encoders]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.query.rerank import CrossEncoderReranker
from rag_core.settings import LLMSettings
from rag_core.types import Chunk, ScoredChunk
from rag_models import bundled
from rag_models.embeddings import SentenceTransformerEmbedder
from rag_models.llm.base import ChatMessage, GenerationOptions
from rag_models.llm.hf import TransformersLLM

os.environ.setdefault("TQDM_DISABLE", "1")

ANSWER_TOKENS = 160
SENTENCE = (
    "Section {n} of the maintenance manual for the NR-{n} pump station describes the inspection schedule, "
    "the spare parts kept on site and the checks an operator performs after every restart. "
)
LLAMA3_8B = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 8192,
    "rope_theta": 500000.0,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
}
BGE_M3 = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "vocab_size": 250002,
    "max_position_embeddings": 8194,
    "type_vocab_size": 2,  # the WordPiece tokenizer marks a pair's second text with type 1
}


def paragraph(n: int, sentences: int) -> str:
    return "".join(SENTENCE.format(n=n * 100 + i) for i in range(sentences))


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    import torch

    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    start = time.perf_counter()
    result = action()
    sync()
    return time.perf_counter() - start, result


def save_random_llm(directory: Path, tokenizer_dir: Path | None) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if tokenizer_dir:
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    else:
        gguf = bundled.smollm2_gguf()
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(
        **LLAMA3_8B, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id
    )
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = LlamaForCausalLM._from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    del model
    torch.cuda.empty_cache()


def llm_rows(directory: Path, modes: list[str], prompts: list[int], runs: int) -> list[dict[str, Any]]:
    import torch

    rows = []
    for mode in modes:
        torch.cuda.reset_peak_memory_stats()
        settings = LLMSettings(backend="transformers", model=str(directory), quantization=mode)  # type: ignore[arg-type]
        llm = TransformersLLM(settings)
        load_s, _ = timed(llm.warm_up)
        for target in prompts:
            row = {
                "model": "Llama-3-8B shape",
                "loading": "bf16" if mode == "none" else mode,
                "load_s": round(load_s, 1),
            }
            row.update(answer_speed(llm, rag_messages(llm, target), runs))
            row["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
        llm.model = None
        torch.cuda.empty_cache()
    return rows


def answer_speed(llm: TransformersLLM, messages: list[ChatMessage], runs: int) -> dict[str, Any]:
    """Prefill = a one-token answer; decode rate = the other 159 tokens over the rest of a 160-token answer.
    Beside it, `model.generate` called directly with the same prompt and length (no wrapper, streamer or
    stopping criteria), so the wrapper's own cost shows."""
    import torch

    options = GenerationOptions(temperature=0.0, max_new_tokens=ANSWER_TOKENS, seed=1)
    prompt = torch.tensor([llm.encode(messages)], device=llm.model.device)

    def direct() -> Any:
        with torch.inference_mode():
            return llm.model.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=ANSWER_TOKENS,
                min_new_tokens=ANSWER_TOKENS,
                do_sample=False,
            )

    llm.generate(messages, options.with_(max_new_tokens=8))  # warm-up: kernels, allocator
    prefill_s = statistics.median(
        timed(lambda: llm.generate(messages, options.with_(max_new_tokens=1)))[0] for _ in range(runs)
    )
    answers = [timed(lambda: llm.generate(messages, options)) for _ in range(runs)]
    assert all(a.completion_tokens == ANSWER_TOKENS for _, a in answers), "an answer ended early"
    answer_s = statistics.median(seconds for seconds, _ in answers)
    direct_s = statistics.median(timed(direct)[0] for _ in range(runs))
    return {
        "prompt_tokens": int(prompt.shape[1]),
        "answer_tokens": ANSWER_TOKENS,
        "prefill_ms_p50": round(prefill_s * 1000, 1),
        "decode_tok_s_p50": round((ANSWER_TOKENS - 1) / (answer_s - prefill_s), 1),
        "answer_s_p50": round(answer_s, 2),
        "direct_generate_s_p50": round(direct_s, 2),
        "wrapper_overhead": round(answer_s / direct_s - 1, 3),
    }


def rag_messages(llm: TransformersLLM, target: int) -> list[ChatMessage]:
    sources: list[str] = []
    while True:
        sources.append(f"[{len(sources) + 1}] <source>{paragraph(len(sources), 3)}</source>")
        messages = [
            ChatMessage("system", "Answer only from the numbered sources and cite them as [n]."),
            ChatMessage(
                "user", "\n".join(sources) + "\n\nQuestion: what does the operator check after a restart?"
            ),
        ]
        if llm.count_tokens(messages) >= target:
            return messages


def save_random_encoder(directory: Path, cross_encoder: bool) -> None:
    import torch
    from transformers import (
        AutoTokenizer,
        XLMRobertaConfig,
        XLMRobertaForSequenceClassification,
        XLMRobertaModel,
    )

    tokenizer = AutoTokenizer.from_pretrained(str(bundled.minilm_dir()))
    if cross_encoder:
        config = XLMRobertaConfig(**BGE_M3, num_labels=1)
        model: Any = XLMRobertaForSequenceClassification(config)
    else:
        model = XLMRobertaModel(XLMRobertaConfig(**BGE_M3))
    model.to(torch.float32).save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))


def embedder_row(directory: Path, chunks: int) -> dict[str, Any]:
    embedder = SentenceTransformerEmbedder(str(directory), device="auto")
    texts = [paragraph(n, 5) for n in range(chunks)]
    embedder.embed_array(texts[:64])
    seconds, vectors = timed(lambda: embedder.embed_array(texts))
    tokens = [len(embedder.model.tokenizer(t)["input_ids"]) for t in texts[:50]]
    return {
        "model": "bge-m3 shape (fp32)",
        "chunks": len(vectors),
        "tokens_per_chunk": round(statistics.mean(tokens)),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(vectors) / seconds, 1),
        "device": str(embedder.model.device),
    }


def reranker_row(directory: Path, runs: int) -> dict[str, Any]:
    reranker = CrossEncoderReranker(str(directory), device="auto")
    hits = [ScoredChunk(chunk(n), 1.0 / (n + 1), {}) for n in range(20)]
    question = "What does the operator check after every restart of the NR-4 pump station?"
    reranker.rerank(question, hits, top_n=5)
    latencies = [timed(lambda: reranker.rerank(question, hits, top_n=5))[0] for _ in range(runs)]
    return {
        "model": "bge-reranker-v2-m3 shape (fp32)",
        "candidates": len(hits),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def chunk(n: int) -> Chunk:
    text = paragraph(n, 4)
    return Chunk(
        id=f"d{n}:v1:0",
        collection="bench",
        doc_id=f"d{n}",
        version="v1",
        source=f"/docs/d{n}.txt",
        title=f"d{n}",
        text=text,
        index=0,
        page=None,
        section="",
        start=0,
        end=len(text),
        hash=str(n),
        file_type="txt",
        tokens=len(text.split()),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/gpu-shapes"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument(
        "--prompts", default="500,2000,6000", help="LLM prompt sizes in tokens, comma-separated"
    )
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--skip-encoders", action="store_true")
    parser.add_argument(
        "--tokenizer", type=Path, help="LLM tokenizer directory (default: the bundled SmolLM2's)"
    )
    parser.add_argument(
        "--loading", default="none", help="comma-separated: none (bf16), 8bit, 4bit (these need bitsandbytes)"
    )
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark measures GPU speed", file=sys.stderr)
        return 2
    report: dict[str, Any] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    if not args.skip_encoders:
        encoder, cross = args.work_dir / "bge-m3-shape", args.work_dir / "bge-reranker-shape"
        save_random_encoder(encoder, cross_encoder=False)
        save_random_encoder(cross, cross_encoder=True)
        report["embedder"] = embedder_row(encoder, args.chunks)
        print(json.dumps(report["embedder"]), flush=True)
        report["reranker"] = reranker_row(cross, max(args.runs, 10))
        print(json.dumps(report["reranker"]), flush=True)
    if not args.skip_llm:
        llm_dir = args.work_dir / "llama3-8b-shape"
        if not (llm_dir / "config.json").is_file():
            save_random_llm(llm_dir, args.tokenizer)
        prompts = [int(n) for n in args.prompts.split(",")]
        report["llm"] = llm_rows(llm_dir, args.loading.split(","), prompts, args.runs)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
