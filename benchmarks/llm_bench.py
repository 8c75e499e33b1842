"""LLM latency and throughput on this machine: time to first token, prompt processing and decode rates for a
~1,500-token prompt and a 150-token answer.

- llamacpp (the embedded default, bundled SmolLM2-135M GGUF) through our wrapper, against xllamacpp called
  directly in its own minimal streaming loop, interleaved in one run (the wrapper must add under 5%);
- transformers on CPU with the same GGUF (dequantised to fp32), unless --skip-transformers.

    .venv/bin/python benchmarks/llm_bench.py --runs 5 --json llm-bench.json

Each run starts its prompt with a distinct line, so llama.cpp's prompt cache cannot skip the prefill.
Rates: prompt tok/s = prompt tokens / time to first token; decode tok/s = (answer tokens - 1) / time from
the first to the last token. The table shows medians; the JSON also has each metric's best run, and the
overhead on both (the best runs are the least disturbed by other load on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rag_core.cancel import CancelToken
from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions, ModelStatus
from rag_models.llm.common import END_OF_TURN_MARKERS, BaseLLM, Chunk
from rag_models.llm.factory import build_llm
from rag_models.llm.llamacpp import LlamaCppLLM

os.environ.setdefault("TQDM_DISABLE", "1")

ANSWER_TOKENS = 150
PARAGRAPH = (
    "Section {n}. The maintenance manual for the NR-{n} pump station describes the inspection schedule, the "
    "spare parts kept on site, the procedure for replacing worn seals and the checks an operator performs "
    "after every restart. Pressure must stay between {lo} and {hi} kPa; readings outside that band are "
    "logged and reported to the shift supervisor within {m} minutes."
)
QUESTION = (
    "Write a detailed, step-by-step summary of every section of the manual above, section by section, "
    "with all the numbers."
)


@dataclass
class Run:
    ttft_s: float
    total_s: float
    prompt_tokens: int
    answer_tokens: int

    @property
    def prompt_tps(self) -> float:
        return self.prompt_tokens / self.ttft_s

    @property
    def decode_tps(self) -> float:
        return (self.answer_tokens - 1) / max(self.total_s - self.ttft_s, 1e-9)


def build_messages(llm: LlamaCppLLM, target: int) -> list[ChatMessage]:
    paragraphs: list[str] = []
    while True:
        n = len(paragraphs) + 1
        paragraphs.append(PARAGRAPH.format(n=n, lo=100 + n, hi=400 + 3 * n, m=5 + n % 7))
        messages = [
            ChatMessage("system", "Run 0.\nYou answer from the manual."),
            ChatMessage("user", "\n\n".join(paragraphs) + "\n\n" + QUESTION),
        ]
        if llm.count_tokens(messages) >= target:
            return messages


def for_run(messages: list[ChatMessage], i: int) -> list[ChatMessage]:
    return [ChatMessage("system", messages[0].content.replace("Run 0.", f"Run {i}.")), *messages[1:]]


def timed(deltas: Iterator[str], count: Callable[[], tuple[int, int]]) -> Run:
    start = time.perf_counter()
    first = 0.0
    for delta in deltas:
        if delta and not first:
            first = time.perf_counter()
    end = time.perf_counter()
    prompt, answer = count()
    return Run(first - start, end - start, prompt, answer)


def wrapper_run(llm: Any, messages: list[ChatMessage], options: GenerationOptions) -> Run:
    usage: dict[str, int] = {}

    def deltas() -> Iterator[str]:
        for chunk in llm.stream_chunks(messages, options):
            if chunk.finish_reason is not None:
                usage.update(prompt=chunk.prompt_tokens or 0, answer=chunk.completion_tokens or 0)
            yield chunk.text

    return timed(deltas(), lambda: (usage["prompt"], usage["answer"]))


def direct_server(llm: LlamaCppLLM) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(llm.path)
    params.n_ctx = llm.context_window
    params.n_parallel = 1
    params.cpuparams.n_threads = llm.settings.threads or -1
    params.cpuparams_batch.n_threads = llm.settings.threads or -1
    params.verbosity = llm.settings.log_verbosity
    return xllamacpp.Server(params)


def direct_run(server: Any, messages: list[ChatMessage], options: GenerationOptions) -> Run:
    """xllamacpp's own minimal loop: one streaming chat request, deltas collected in the callback."""
    start = time.perf_counter()
    marks: dict[str, Any] = {"first": 0.0, "usage": {}}

    def on_event(event: dict[str, Any]) -> bool:
        for choice in event.get("choices") or []:
            if (choice.get("delta") or {}).get("content") and not marks["first"]:
                marks["first"] = time.perf_counter()
        marks["usage"] = event.get("usage") or marks["usage"]
        return False

    body = {
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": options.max_new_tokens,
        "temperature": options.temperature,
        "top_p": options.top_p,
        "top_k": options.top_k,
        "repeat_penalty": options.repetition_penalty,
        "seed": options.seed,
    }
    server.handle_chat_completions(body, on_event)
    end = time.perf_counter()
    usage = marks["usage"]
    return Run(marks["first"] - start, end - start, usage["prompt_tokens"], usage["completion_tokens"])


def summary(runs: list[Run], pick: Callable[[list[float]], float] = statistics.median) -> dict[str, float]:
    """Medians by default; `pick=min` gives each metric's best run (least disturbed by other load)."""
    best = pick is min
    return {
        "ttft_s": pick([r.ttft_s for r in runs]),
        "prompt_tps": (max if best else pick)([r.prompt_tps for r in runs]),
        "decode_tps": (max if best else pick)([r.decode_tps for r in runs]),
        "total_s": pick([r.total_s for r in runs]),
        "prompt_tokens": statistics.median(r.prompt_tokens for r in runs),
        "answer_tokens": statistics.median(r.answer_tokens for r in runs),
    }


def overhead(ours: dict[str, float], base: dict[str, float]) -> dict[str, float]:
    return {
        "total_time_pct": 100 * (ours["total_s"] / base["total_s"] - 1),
        "ttft_pct": 100 * (ours["ttft_s"] / base["ttft_s"] - 1),
        "decode_rate_pct": 100 * (1 - ours["decode_tps"] / base["decode_tps"]),
    }


def bench_llamacpp(
    runs: int, target: int, options: GenerationOptions, threads: int
) -> tuple[dict[str, Any], list[ChatMessage]]:
    llm = build_llm(LLMSettings.model_validate({"threads": threads}))
    assert isinstance(llm, LlamaCppLLM)
    llm.warm_up()
    server = direct_server(llm)
    messages = build_messages(llm, target)
    wrapper_run(llm, for_run(messages, 10_000), options)
    direct_run(server, for_run(messages, 10_001), options)
    wrapped: list[Run] = []
    direct: list[Run] = []
    for i in range(runs):
        order = [("w", wrapped), ("d", direct)] if i % 2 == 0 else [("d", direct), ("w", wrapped)]
        for kind, sink in order:
            prompt = for_run(messages, 2 * i + (kind == "d"))
            sink.append(
                wrapper_run(llm, prompt, options) if kind == "w" else direct_run(server, prompt, options)
            )
    results = {"llamacpp (ours)": summary(wrapped), "llamacpp (xllamacpp direct)": summary(direct)}
    best = {"llamacpp (ours)": summary(wrapped, min), "llamacpp (xllamacpp direct)": summary(direct, min)}
    report = {
        "wrapper_cost": wrapper_cost(llm, messages, results["llamacpp (xllamacpp direct)"]["total_s"]),
        "results": results,
        "best": best,
        "overhead_median": overhead(results["llamacpp (ours)"], results["llamacpp (xllamacpp direct)"]),
        "overhead_best": overhead(best["llamacpp (ours)"], best["llamacpp (xllamacpp direct)"]),
        "runs": {"ours": [asdict(r) for r in wrapped], "direct": [asdict(r) for r in direct]},
    }
    return report, messages


def bench_transformers(runs: int, messages: list[ChatMessage], options: GenerationOptions) -> dict[str, Any]:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    llm = build_llm(LLMSettings.model_validate({"backend": "transformers"}))
    started = time.perf_counter()
    llm.warm_up()
    load_s = time.perf_counter() - started
    wrapper_run(llm, for_run(messages, 20_000), options.with_(max_new_tokens=8))
    measured = [wrapper_run(llm, for_run(messages, 20_001 + i), options) for i in range(runs)]
    return {
        "results": {"transformers (ours, CPU fp32)": summary(measured)},
        "best": {"transformers (ours, CPU fp32)": summary(measured, min)},
        "load_s": load_s,
        "runs": [asdict(r) for r in measured],
    }


class Replay(BaseLLM):
    """A backend that costs nothing: it replays deltas through a worker thread and a queue, as the llamacpp
    backend does with llama.cpp's callbacks, so timing it isolates the wrapper's own per-token work."""

    backend = model_name = "replay"
    serialize = True
    extra_stops = END_OF_TURN_MARKERS

    def __init__(self, deltas: list[str]) -> None:
        super().__init__(LLMSettings.model_validate({}))
        self.deltas = deltas

    @property
    def context_window(self) -> int:
        return 1 << 30

    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return 1

    def status(self) -> ModelStatus:
        return ModelStatus(self.backend, self.model_name, True)

    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        events: queue.Queue[str | None] = queue.Queue()

        def work() -> None:
            for delta in [*self.deltas, None]:
                events.put(delta)

        worker = threading.Thread(target=work)
        worker.start()
        while (delta := events.get(timeout=1)) is not None:
            yield Chunk(text=delta)
        worker.join()
        yield Chunk(finish_reason="stop", completion_tokens=len(self.deltas))


def wrapper_cost(llm: LlamaCppLLM, messages: list[ChatMessage], direct_total_s: float) -> dict[str, float]:
    """Load-independent estimate of the wrapper's cost: its fixed work before the call (token counting for
    the overflow check) plus its per-token work (thread hop, stop filter, generator layers)."""
    counts = []
    for _ in range(20):
        started = time.perf_counter()
        llm.count_tokens(messages)
        counts.append(time.perf_counter() - started)
    deltas = [f" word{i}" for i in range(20_000)]
    replay = Replay(deltas)
    started = time.perf_counter()
    for _ in replay.stream([ChatMessage("user", "x")], GenerationOptions(max_new_tokens=1)):
        pass
    per_token = (time.perf_counter() - started) / len(deltas)
    fixed = statistics.median(counts)
    estimate = fixed + ANSWER_TOKENS * per_token
    return {
        "count_tokens_ms": 1000 * fixed,
        "per_token_us": 1e6 * per_token,
        "estimated_overhead_pct": 100 * estimate / direct_total_s,
    }


def print_table(results: dict[str, dict[str, float]]) -> None:
    header = (
        f"{'backend':32} {'prompt tok':>10} {'answer tok':>10} {'TTFT s':>8} {'prompt tok/s':>12} "
        f"{'decode tok/s':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:32} {r['prompt_tokens']:>10.0f} {r['answer_tokens']:>10.0f} {r['ttft_s']:>8.3f} "
            f"{r['prompt_tps']:>12.1f} {r['decode_tps']:>12.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="measured runs per backend (llamacpp)")
    parser.add_argument("--hf-runs", type=int, default=2, help="measured runs for transformers")
    parser.add_argument("--prompt-tokens", type=int, default=1500)
    parser.add_argument("--answer-tokens", type=int, default=ANSWER_TOKENS)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0 = all cores)")
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="write all figures and runs as JSON")
    args = parser.parse_args(argv)

    options = GenerationOptions(
        temperature=0.0,
        top_k=40,
        top_p=0.9,
        repetition_penalty=1.0,
        max_new_tokens=args.answer_tokens,
        seed=1,
    )
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_start": os.getloadavg(),
        },
        "options": asdict(options),
        "llamacpp_threads": args.threads or "all cores",
    }
    llamacpp, messages = bench_llamacpp(args.runs, args.prompt_tokens, options, args.threads)
    report["llamacpp"] = llamacpp
    results = dict(llamacpp["results"])
    if not args.skip_transformers:
        report["transformers"] = bench_transformers(args.hf_runs, messages, options)
        results.update(report["transformers"]["results"])
    report["machine"]["load_average_end"] = os.getloadavg()
    print_table(results)
    print()
    cost = llamacpp["wrapper_cost"]
    print(
        f"wrapper cost: token counting {cost['count_tokens_ms']:.1f} ms per call + "
        f"{cost['per_token_us']:.1f} us per token = {cost['estimated_overhead_pct']:.2f}% of a direct run"
    )
    for kind in ("median", "best"):
        extra = llamacpp[f"overhead_{kind}"]
        print(
            f"wrapper overhead vs xllamacpp direct ({kind} of {args.runs} interleaved runs): "
            f"total time {extra['total_time_pct']:+.2f}%, TTFT {extra['ttft_pct']:+.2f}%, "
            f"decode rate {extra['decode_rate_pct']:+.2f}%"
        )
    print(
        f"load average: {report['machine']['load_average_start']} -> {report['machine']['load_average_end']}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
