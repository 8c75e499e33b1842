"""Aggregating per-question records into a set's metrics.

Retrieval metrics, accuracy, citation precision and false refusal are over answerable questions;
refusal over unanswerable ones; groundedness over answers that were given (not refused). Questions whose
run failed (`error`) are counted and left out of every metric. A metric without any question to
measure it on is None (shown as n/a).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.eval.metrics import KS, MRR_K, mean, percentile
from rag.eval.scoring import QuestionRecord

TURNS = ("single", "follow-up", "topic-shift")
STAGE_TIMINGS = ("rewrite", "retrieve", "rerank", "passages", "compress", "generate", "first_token", "total")


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def summarize(records: Sequence[QuestionRecord]) -> dict[str, Any]:
    ok = [r for r in records if not r.error]
    answerable = [r for r in ok if r.answerable]
    unanswerable = [r for r in ok if not r.answerable]
    generated = [r for r in ok if r.answer is not None]
    retrieval: dict[str, float | None] = {
        f"hit@{k}": _rounded(_share([r.hits[k] for r in answerable])) for k in KS
    }
    retrieval[f"mrr@{MRR_K}"] = _rounded(mean([r.reciprocal_rank for r in answerable]))
    retrieval["context_items"] = _rounded(mean([float(len(r.context)) for r in ok]), 2)
    retrieval["context_chars"] = _rounded(mean([float(r.context_chars) for r in ok]), 0)
    answers: dict[str, Any] = {}
    if generated:
        scored = [r.correct for r in generated if r.answerable and r.correct is not None]
        answered = [r for r in generated if not r.refused]
        answers = {
            "accuracy": _rounded(_share(scored)),
            "accuracy_questions": len(scored),
            "citation_precision": _rounded(
                mean([r.citation_precision for r in answered if r.citation_precision is not None])
            ),
            "refusal_rate": _rounded(_share([r.refused for r in generated if not r.answerable])),
            "false_refusal_rate": _rounded(_share([r.refused for r in generated if r.answerable])),
            "groundedness": _rounded(mean([r.groundedness for r in answered if r.groundedness is not None])),
            "context_support": _rounded(
                mean([r.context_support for r in answered if r.context_support is not None])
            ),
            "uncited_rate": _rounded(_share([not r.citations for r in answered])),
        }
    reach_stages = dict.fromkeys(stage for r in answerable for stage in r.reach)
    reach = {
        stage: _rounded(_share([r.reach[stage] for r in answerable if stage in r.reach]))
        for stage in reach_stages
    }
    latency: dict[str, dict[str, float | int | None]] = {}
    for stage in STAGE_TIMINGS:
        values = [r.timings[stage] for r in ok if stage in r.timings]
        if values:
            latency[stage] = {
                "p50": _rounded(percentile(values, 50)),
                "p95": _rounded(percentile(values, 95)),
                "n": len(values),
            }
    tokens = [float(r.prompt_tokens) for r in ok if r.prompt_tokens is not None]
    groups = {turn: [r for r in answerable if r.turn == turn] for turn in TURNS}
    groups["follow-up with gold rewrite"] = [r for r in groups["follow-up"] if r.gold_rewrite]
    turns = {
        turn: {
            "n": len(group),
            **{f"hit@{k}": _rounded(_share([r.hits[k] for r in group])) for k in KS},
            f"mrr@{MRR_K}": _rounded(mean([r.reciprocal_rank for r in group])),
        }
        for turn, group in groups.items()
        if group
    }
    return {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": len(records) - len(ok),
        "retrieval": retrieval,
        "reach": reach,
        "answers": answers,
        "latency": latency,
        "turns": turns if set(turns) != {"single"} else {},
        "prompt_tokens": {
            "mean": _rounded(mean(tokens), 1),
            "p50": _rounded(percentile(tokens, 50), 1),
            "n": len(tokens),
        },
    }
