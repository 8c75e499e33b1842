"""Tune the answer stage (citation check, quote fallback) on real model answers without generating twice.

`generate` asks the configured LLM once per question (the prompt passages and the raw answer are cached
in a JSON file; re-running resumes); `score` replays the answer stage of the code in the working tree
over the cache and scores it like `rag eval`. Two versions of the check compare on the same answers:

    RAG_DATA_DIR=/tmp/rag-eval .venv/bin/python benchmarks/answer_replay.py generate answers.json \\
        ../shared/bench/xquad-en ../shared/bench/rgb-zh --split tune --limit 60
    RAG_DATA_DIR=/tmp/rag-eval .venv/bin/python benchmarks/answer_replay.py score answers.json

The sets must be ingested first (`rag eval SET --retrieval-only` does it, collection `eval-<set>`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.components import Components
from rag.eval.dataset import EvalSet, load_set, select_split
from rag.eval.runner import doc_id_of
from rag.eval.scoring import ContextItem, Outcome, QuestionRecord, score
from rag.eval.summary import summarize
from rag.query.answer import REFUSAL, Answerer, language
from rag.query.passages import Passage
from rag.query.request import QueryRequest
from rag_core.settings import load_settings
from rag_models.llm.base import GenerationOptions

Row = dict[str, Any]


def generate(out: Path, sets: Sequence[Path], split: str, limit: int | None) -> None:
    settings = load_settings()
    components = Components(settings)
    pipeline = components.query_pipeline()
    llm = components.llm()
    answer = settings.answer
    rows: list[Row] = json.loads(out.read_text()) if out.exists() else []
    done = {(r["set"], r["id"]) for r in rows}
    options = GenerationOptions(
        temperature=settings.llm.temperature,
        top_p=settings.llm.top_p,
        top_k=settings.llm.top_k,
        repetition_penalty=settings.llm.repetition_penalty,
        max_new_tokens=answer.max_new_tokens,
        seed=settings.llm.seed if settings.llm.seed is not None else 0,
    )
    for path in sets:
        qset = load_set(path)
        for q in select_split(qset.questions, split)[:limit]:
            if (qset.name, q.id) in done:
                continue
            passages, evidence = pipeline.prompt_passages(
                pipeline.prepare(QueryRequest(q.question, f"eval-{qset.name}"))
            )
            row: Row = {
                "set": qset.name,
                "id": q.id,
                "sufficient": evidence.sufficient(answer.min_term_coverage, answer.min_dense_score),
                "passages": [asdict(p) for p in passages],
                "text": None,
            }
            if passages and row["sufficient"]:
                messages, used = Answerer(llm).messages(q.question, passages, options.max_new_tokens)
                row["used"] = len(used)
                row["prompt_tokens"] = llm.count_tokens(messages)
                row["text"] = "".join(llm.stream(messages, options, None))
            rows.append(row)
            out.write_text(json.dumps(rows, ensure_ascii=False))
        print(f"{qset.name}: done", flush=True)


def replay(rows: Sequence[Row], bench: Path) -> dict[str, list[QuestionRecord]]:
    settings = load_settings()
    answer = settings.answer
    threshold = Components(settings).query_pipeline().support_threshold()
    sets: dict[str, EvalSet] = {}
    records: dict[str, list[QuestionRecord]] = {}
    for row in rows:
        qset = sets.setdefault(row["set"], load_set(bench / row["set"]))
        q = next(x for x in qset.questions if x.id == row["id"])
        passages = [Passage(**p) for p in row["passages"]][: row.get("used", len(row["passages"]))]
        context = [ContextItem(doc_id_of(p.source, qset.docs_dir), p.text) for p in passages]
        if row["text"] is None or not row["sufficient"]:
            outcome = Outcome(context=context, answer=REFUSAL[language(q.question)], refused=True)
        else:
            final = Answerer(None).finish(  # type: ignore[arg-type]
                q.question,
                row["text"],
                passages,
                withhold_unsupported=answer.withhold_unsupported,
                drop_unsupported=answer.drop_unsupported_sentences,
                quote_unsupported=answer.quote_unsupported,
                support_threshold=threshold,
            )
            cited = list(final.cited.used_ids) if final.cited is not None else []
            outcome = Outcome(context=context, answer=final.text, cited=cited, refused=final.refused)
        records.setdefault(qset.name, []).append(score(q, outcome))
    return records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="ask the LLM once per question and cache the answers")
    gen.add_argument("cache", type=Path)
    gen.add_argument("sets", nargs="+", type=Path)
    gen.add_argument("--split", choices=["all", "tune", "check"], default="tune")
    gen.add_argument("--limit", type=int, help="first N questions of the split per set")
    rep = commands.add_parser("score", help="replay the answer stage over the cache and score it")
    rep.add_argument("cache", type=Path)
    rep.add_argument("--bench", type=Path, default=Path("../shared/bench"), help="folder of the sets")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.cache, args.sets, args.split, args.limit)
        return 0
    for name, records in sorted(replay(json.loads(args.cache.read_text()), args.bench).items()):
        s = summarize(records)["answers"]

        def shown(key: str, s: dict[str, Any] = s) -> str:
            return "n/a" if s.get(key) is None else f"{s[key]:.3f}"

        print(
            f"{name:16} n={len(records):4}  accuracy {shown('accuracy')}  citation precision "
            f"{shown('citation_precision')}  refusal {shown('refusal_rate')}  false refusal "
            f"{shown('false_refusal_rate')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
