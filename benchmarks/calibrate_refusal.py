"""Calibrate the refusal thresholds (`RAG_ANSWER__MIN_TERM_COVERAGE`, `RAG_ANSWER__MIN_DENSE_SCORE`) on
the hard case: questions about the documents' own topics whose answer they do not hold. The dense
threshold is chosen separately for passages in the question's script and in the other one (a
multilingual embedder scores those lower).

For each set, the evidence strength of the prompt's passages is measured (no LLM) for its answerable
questions (a refusal is a false refusal) and its unanswerable ones (a refusal is right). Sets without
unanswerable questions still count for false refusals. Thresholds are chosen on the tune half of the
questions (`rag eval --split tune`): the pair that refuses most unanswerable questions while false
refusals stay within --max-false on every set; the check half is then reported at that pair and at the
configured one.

    RAG_DATA_DIR=/tmp/rag-eval .venv/bin/python benchmarks/calibrate_refusal.py \\
        ../shared/bench/squad2-unans ../shared/bench/xquad-en ../shared/bench/contoso --json refusal.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from rag.components import Components
from rag.eval.dataset import load_set, split_of
from rag.query.evidence import EvidenceStrength
from rag.query.request import QueryRequest
from rag_core.settings import load_settings

COVERAGE_GRID = [0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01]
DENSE_GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 1.01]
Row = dict[str, object]


def measure(sets: Sequence[Path]) -> list[Row]:
    components = Components(load_settings())
    pipeline = components.query_pipeline()
    ingest = components.ingest_pipeline()
    rows: list[Row] = []
    for path in sets:
        qset = load_set(path)
        collection = f"eval-{qset.name}"
        ingest.run([qset.docs_dir], collection)
        for q in qset.questions:
            _, e = pipeline.prompt_passages(pipeline.prepare(QueryRequest(q.question, collection)))
            rows.append(
                {
                    "set": qset.name,
                    "id": q.id,
                    "split": split_of(q.id),
                    "answerable": q.answerable,
                    "coverage": e.term_coverage,
                    "dense": e.dense,
                    "dense_across": e.dense_across,
                    "dense_weight": e.dense_weight,
                    "unmatched": sorted(e.unmatched),
                }
            )
    return rows


def refused(row: Row, coverage: float, dense: float, across: float | None = None) -> bool:
    evidence = EvidenceStrength(
        float(row["coverage"]),  # type: ignore[arg-type]
        float(row["dense"]),  # type: ignore[arg-type]
        float(row["dense_weight"]),  # type: ignore[arg-type]
        frozenset(cast("list[str]", row["unmatched"])),
        float(row.get("dense_across", 0.0)),  # type: ignore[arg-type]
    )
    return not evidence.sufficient(coverage, dense, across)


Thresholds = tuple[float, float, float]  # min_term_coverage, dense (question's script), dense (other)


def rates(rows: list[Row], chosen: Thresholds) -> dict[str, tuple[float | None, float | None]]:
    """Per set: (refusal of unanswerable questions, false refusal of answerable ones)."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for name in sorted({str(r["set"]) for r in rows}):
        mine = [r for r in rows if r["set"] == name]
        unans = [refused(r, *chosen) for r in mine if not r["answerable"]]
        ans = [refused(r, *chosen) for r in mine if r["answerable"]]
        out[name] = (sum(unans) / len(unans) if unans else None, sum(ans) / len(ans) if ans else None)
    return out


def choose(rows: list[Row], max_false: float) -> Thresholds | None:
    """The thresholds that refuse most unanswerable questions (mean over sets) with false refusals within
    `max_false` on every set; the dense threshold for passages in another script than the question's is
    searched too (it only matters where questions and documents differ in script)."""
    best: tuple[Thresholds, float] | None = None
    for chosen in itertools.product(COVERAGE_GRID, DENSE_GRID, DENSE_GRID):
        per_set = rates(rows, chosen)
        if any(f is not None and f > max_false for _, f in per_set.values()):
            continue
        refusal = [r for r, _ in per_set.values() if r is not None]
        mean = sum(refusal) / len(refusal) if refusal else 0.0
        if best is None or mean > best[1]:
            best = (chosen, mean)
    return None if best is None else best[0]


def report(rows: list[Row], label: str, chosen: Thresholds) -> None:
    coverage, dense, across = chosen
    print(f"{label}: min_term_coverage={coverage}, dense={dense}, dense across scripts={across}")
    for name, (refusal, false) in rates(rows, chosen).items():
        shown = "n/a" if refusal is None else f"{refusal:.3f}"
        print(f"  {name:16} refusal of unanswerable {shown:>6}   false refusal {false or 0:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--max-false", type=float, default=0.10, help="allowed false-refusal rate per set")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--rows", type=Path, help="read the measurements from here instead of measuring")
    args = parser.parse_args(argv)
    rows: list[Row] = json.loads(args.rows.read_text()) if args.rows else measure(args.sets)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    tune = [r for r in rows if r["split"] == "tune"]
    check = [r for r in rows if r["split"] == "check"]
    pipeline = Components(load_settings()).query_pipeline()
    configured = (pipeline.settings.answer.min_term_coverage, *pipeline.dense_thresholds())
    report(check, "check half, configured", configured)
    chosen = choose(tune, args.max_false)
    if chosen is None:
        print(f"no thresholds keep false refusals within {args.max_false:.0%} on every set")
        return 1
    report(tune, "tune half, chosen", chosen)
    report(check, "check half, chosen", chosen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
