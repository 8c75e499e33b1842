"""Calibrate the refusal thresholds (`RAG_ANSWER__MIN_TERM_COVERAGE`, `RAG_ANSWER__MIN_DENSE_SCORE`).

For each set, the evidence strength of the final context is measured (retrieval only, no LLM) for
- its answerable questions, asked of its own collection (a refusal here is a false refusal), and
- questions of the other sets in the same language, asked of this collection: their answers are in
  no document of this collection, so they should be refused.
It prints, for a grid of thresholds, the false-refusal rate on answerable questions and the refusal
rate on foreign ones, per set and overall, and the best pair with false refusals <= --max-false.
Then, at the configured thresholds, how many of each set's questions that name a year are refused
when every year they name is moved 30 years on (2022 -> 2052), and how many of those that name a
numbered name (NR-7, Velmora 11, 第七届) when its number is moved 100 on (NR-107, 第107届; quarters
are not moved): the documents report other years and other models, so an answer would give their
facts; with and without the check that the evidence names the question's years and numbered names.

    RAG_DATA_DIR=/tmp/rag-eval .venv/bin/python benchmarks/calibrate_refusal.py \
        /work/shared/bench/xquad-en /work/shared/bench/hotpotqa /work/shared/bench/contoso --limit 100
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path
from typing import cast

from rag.components import Components
from rag.eval.dataset import EvalSet, load_set
from rag.query.evidence import EvidenceStrength
from rag.query.numbered import ORDINAL, numbered_names, ordinal
from rag.query.request import QueryRequest
from rag.query.years import YEAR, asked_years
from rag.settings import load_settings

COVERAGE_GRID = [0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7]
DENSE_GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 1.01]


YEARS_LATER = 30
NUMBERS_LATER = 100


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=100, help="questions per set and role")
    parser.add_argument("--max-false", type=float, default=0.10, help="allowed false-refusal rate")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args()

    components = Components(load_settings())
    pipeline = components.query_pipeline()
    ingest = components.ingest_pipeline()
    sets = {path.name: load_set(path) for path in args.sets}
    for name, qset in sets.items():
        ingest.run([qset.docs_dir], f"eval-{name}")

    rows: list[dict[str, object]] = []
    for name, qset in sets.items():
        lang = _language(qset)
        own = [q for q in qset.questions if q.answerable][: args.limit]
        foreign = [
            q
            for other, oset in sets.items()
            if other != name and _language(oset) == lang
            for q in oset.questions[: args.limit]
        ]
        moved = [_moved(q.question) for q in own if asked_years(q.question) and YEAR.search(q.question)]
        renumbered = [r for q in own if (r := _renumbered(q.question)) != q.question]
        for role, questions in (
            ("answerable", [q.question for q in own]),
            ("foreign", [q.question for q in foreign]),
            ("other-year", moved),
            ("other-number", renumbered),
        ):
            for question in questions:
                prepared = pipeline.prepare(QueryRequest(question, f"eval-{name}", retrieval_only=True))
                e = prepared.evidence
                assert e is not None
                rows.append(
                    {
                        "set": name,
                        "role": role,
                        "coverage": e.term_coverage,
                        "dense": e.dense,
                        "dense_weight": e.dense_weight,
                        "unmatched": sorted(e.unmatched),
                    }
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    _report(rows, args.max_false)
    _report_moved(
        rows, components.settings.answer.min_term_coverage, components.settings.answer.min_dense_score
    )


def _moved(question: str) -> str:
    return YEAR.sub(lambda m: str(int(m.group(1)) + YEARS_LATER), question)


def _renumbered(question: str) -> str:
    for name, number in numbered_names(question):
        pattern = rf"(?i)(?<![A-Za-z])({re.escape(name)}[\s-]?){re.escape(number)}(?![\d.])"
        moved = str(int(number.split(".")[0]) + NUMBERS_LATER)
        question = re.sub(pattern, rf"\g<1>{moved}", question)
    return ORDINAL.sub(_moved_ordinal, question)


def _moved_ordinal(m: re.Match[str]) -> str:
    read = ordinal(m)
    return m.group(0) if read is None else f"第{int(read[1]) + NUMBERS_LATER}{read[0]}"


def _language(qset: EvalSet) -> str:
    return qset.questions[0].lang if qset.questions else "en"


def _refused(row: dict[str, object], coverage: float, dense: float) -> bool:
    evidence = EvidenceStrength(
        float(row["coverage"]),  # type: ignore[arg-type]
        float(row["dense"]),  # type: ignore[arg-type]
        float(row["dense_weight"]),  # type: ignore[arg-type]
        frozenset(cast("list[str]", row["unmatched"])),
    )
    return not evidence.sufficient(coverage, dense)


def _report_moved(rows: list[dict[str, object]], coverage: float, dense: float) -> None:
    for role, what in (
        ("other-year", f"questions whose years are moved {YEARS_LATER} on"),
        ("other-number", f"questions whose numbered names are moved {NUMBERS_LATER} on"),
    ):
        print(f"{what}, refused at min_term_coverage={coverage}, min_dense_score={dense}:")
        _report_role(rows, role, coverage, dense)


def _report_role(rows: list[dict[str, object]], role: str, coverage: float, dense: float) -> None:
    for name in sorted({str(r["set"]) for r in rows}):
        moved = [r for r in rows if r["set"] == name and r["role"] == role]
        if moved:
            checked = sum(_refused(r, coverage, dense) for r in moved) / len(moved)
            unchecked = sum(_refused({**r, "unmatched": []}, coverage, dense) for r in moved) / len(moved)
            print(
                f"  {name}: {checked:.2f} ({unchecked:.2f} without the year and name check), "
                f"{len(moved)} questions"
            )


def _report(rows: list[dict[str, object]], max_false: float) -> None:
    names = sorted({str(r["set"]) for r in rows})
    best: tuple[float, float, float] | None = None
    print(f"{'coverage':>8} {'dense':>6} | " + " | ".join(f"{n[:14]:>14} false/refused" for n in names))
    for coverage, dense in itertools.product(COVERAGE_GRID, DENSE_GRID):
        cells = []
        worst_false = 0.0
        refused_total = []
        for name in names:
            ans = [r for r in rows if r["set"] == name and r["role"] == "answerable"]
            foreign = [r for r in rows if r["set"] == name and r["role"] == "foreign"]
            false_rate = sum(_refused(r, coverage, dense) for r in ans) / max(len(ans), 1)
            refuse_rate = sum(_refused(r, coverage, dense) for r in foreign) / max(len(foreign), 1)
            worst_false = max(worst_false, false_rate)
            if foreign:
                refused_total.append(refuse_rate)
            cells.append(f"{false_rate:>14.2f} {refuse_rate:>7.2f}")
        print(f"{coverage:>8.2f} {dense:>6.2f} | " + " | ".join(cells))
        mean_refused = sum(refused_total) / max(len(refused_total), 1)
        if worst_false <= max_false and (best is None or mean_refused > best[2]):
            best = (coverage, dense, mean_refused)
    if best:
        print(
            f"best with false refusals <= {max_false:.0%} on every set: min_term_coverage={best[0]}, "
            f"min_dense_score={best[1]} (mean refusal of foreign questions {best[2]:.2f})"
        )


if __name__ == "__main__":
    main()
