"""How the citation check (`rag/query/citations.py`) treats answers whose truth is known, without an LLM.

For each answerable question with short answers, the final context is retrieved (retrieval only, as
the pipeline hands it to the LLM). When a passage of it holds the answer (a hit), answers are written
the way a model that read the context would, and each goes through the check as an LLM's answer does
(`attribute`, unsupported sentences dropped):
- right answers, cited to the passage that holds them: the bare answer ("1901 [2]"), a template
  ("The answer is 1901 [2]."), and the passage's sentence that holds it, copied ("... in 1901 [2].");
  the check should keep them, citing a hit;
- right answers cited to a passage that does not hold them: the check should move the citation to a
  hit (or withhold the answer);
- wrong answers (another question's short answer from the same set), bare and in the passage's own
  sentence in place of the right one ("... in 1874 [2]."), the made-up answer the check exists to
  catch: it should withhold them;
- wrong answers taken from the context: another number or name that a passage holds, bare and cited
  to that passage ("11 [3]" where 11 is another player's count), the answer of a model that picked
  the wrong fact: the check should withhold them unless the passage states them about the question.
A real model paraphrases more than these answers do, so the first rows are an upper bound on what the
check keeps; the wrong-answer rows are what it lets through of answers that look like the evidence.

`--split tune|check` takes, of the first `--limit` answerable questions, those of one fixed half
(`rag.eval.dataset.split_of`): measure a change of the check on the tune half, report it on the check
half. The report gives, per set and kind, the answers written, how many (and what share) the check
kept, and the share of those citing a hit; a summary line per set counts the right answers kept citing
a hit and the wrong answers let through.

    RAG_DATA_DIR=/tmp/rag-eval .venv/bin/python benchmarks/citation_check.py \
        ../shared/bench/xquad-en ../shared/bench/rgb-zh --limit 300 --split tune
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from rag.components import Components
from rag.eval.dataset import SPLITS, Question, load_set, select_split
from rag.eval.metrics import extractive_answers, is_hit
from rag.eval.runner import doc_id_of
from rag.eval.text import contains_answer
from rag.query.citations import attribute
from rag.query.names import names_in
from rag.query.request import QueryRequest
from rag_core.sentences import sentence_spans
from rag_core.settings import load_settings

STATED = {"en": "The answer is {answer} [{n}].", "zh": "答案是{answer}[{n}]。"}
# kind: whether the check should keep it
KINDS = {
    "bare": True,
    "stated": True,
    "copied sentence": True,
    "miscited": True,
    "wrong bare": False,
    "wrong in sentence": False,
    "context number": False,
    "context name": False,
}
NUMBER_WORD = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w.,]*\d)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=300, help="answerable questions per set, split after")
    parser.add_argument("--split", choices=SPLITS, default="all", help="the fixed half of the questions")
    parser.add_argument("--json", type=Path, help="write the per-answer rows here")
    args = parser.parse_args(argv)

    components = Components(load_settings())
    pipeline = components.query_pipeline()
    ingest = components.ingest_pipeline()
    rows: list[dict[str, object]] = []
    for path in args.sets:
        qset = load_set(path)
        collection = f"eval-{qset.name}"
        ingest.run([qset.docs_dir], collection)
        answerable = [q for q in qset.questions if q.answerable and extractive_answers(q.answers)]
        sample = answerable[: args.limit]
        questions = select_split(sample, args.split)  # the two halves of one sample
        pool = sorted({a for q in sample for a in extractive_answers(q.answers)})
        rng = random.Random(0)
        for q in questions:
            passages, _ = pipeline.prompt_passages(pipeline.prepare(QueryRequest(q.question, collection)))
            sources = {i + 1: p.text for i, p in enumerate(passages)}
            hits = {
                i + 1
                for i, p in enumerate(passages)
                if is_hit(doc_id_of(p.source, qset.docs_dir), p.text, q.gold_docs, q.answers, q.lang)
            }
            if not hits:
                continue
            for kind, answer in _answers(q, sources, hits, pool, rng).items():
                cited = attribute(answer, sources, question=q.question, drop_unsupported=True)
                rows.append(
                    {
                        "set": qset.name,
                        "id": q.id,
                        "kind": kind,
                        "answer": answer,
                        "kept": bool(cited.used_ids),
                        "cites_hit": bool(cited.used_ids) and set(cited.used_ids) <= hits,
                        "text": cited.text,
                    }
                )
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    _report(rows, args.split)
    return 0


def _answers(
    q: Question, sources: dict[int, str], hits: set[int], pool: Sequence[str], rng: random.Random
) -> dict[str, str]:
    n = min(hits)
    right = next(a for a in extractive_answers(q.answers) if contains_answer(sources[n], [a], q.lang))
    lang = "zh" if q.lang == "zh" else "en"
    answers = {"bare": f"{right} [{n}]", "stated": STATED[lang].format(answer=right, n=n)}
    sentence = _sentence_with(sources[n], right)
    if sentence:
        answers["copied sentence"] = f"{sentence} [{n}]"
    others = [i for i in sources if i not in hits]
    if others:
        answers["miscited"] = f"{right} [{others[0]}]"
    wrong = _wrong_answer(q, sources[n], pool, rng)
    if wrong:
        answers["wrong bare"] = f"{wrong} [{n}]"
        if sentence:
            swapped = re.sub(re.escape(right), lambda _: wrong, sentence, flags=re.IGNORECASE)
            answers["wrong in sentence"] = f"{swapped} [{n}]"
    for kind, found in (("context number", _context_numbers), ("context name", _context_names)):
        picks = [
            (i, x)
            for i, text in sources.items()
            for x in found(text)
            if not any(x.casefold() in a.casefold() or a.casefold() in x.casefold() for a in q.answers)
            and x.casefold() not in q.question.casefold()
        ]
        if picks:
            i, x = rng.choice(sorted(picks))
            answers[kind] = f"{x} [{i}]"
    return answers


def _context_numbers(text: str) -> set[str]:
    return {m.group() for m in NUMBER_WORD.finditer(text)}


def _context_names(text: str) -> set[str]:
    return {name for a, b in sentence_spans(text) for name in names_in(text[a:b])}


def _sentence_with(text: str, answer: str) -> str | None:
    """The passage's sentence that holds the answer as written (case aside), without line breaks."""
    for a, b in sentence_spans(text):
        sentence = " ".join(text[a:b].split())
        if answer.casefold() in sentence.casefold():
            return sentence.rstrip(".。")
    return None


def _wrong_answer(q: Question, passage: str, pool: Sequence[str], rng: random.Random) -> str | None:
    """Another question's short answer that the passage does not hold and that shares nothing with the
    right answers (so it cannot be right by accident)."""
    right = [a.casefold() for a in q.answers]
    candidates = [
        a
        for a in pool
        if not contains_answer(passage, [a], q.lang)
        and not any(a.casefold() in r or r in a.casefold() for r in right)
    ]
    return rng.choice(candidates) if candidates else None


def _report(rows: list[dict[str, object]], split: str = "all") -> None:
    """Per set and kind: answers, kept (count and share), share of the kept citing a hit; per set, the
    right answers kept citing a hit and the wrong ones let through."""
    groups: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        groups[(str(row["set"]), str(row["kind"]))].append(row)
    print(f"split: {split}")
    print(f"{'set':<14} {'answer':<18} {'n':>5} {'kept':>5} {'share':>6} {'cites a hit':>12}  should be")
    for (name, kind), group in sorted(groups.items(), key=lambda g: (g[0][0], list(KINDS).index(g[0][1]))):
        kept = [r for r in group if r["kept"]]
        right = sum(bool(r["cites_hit"]) for r in kept) / len(kept) if kept else 0.0
        should = "kept" if KINDS[kind] else "withheld"
        print(
            f"{name:<14} {kind:<18} {len(group):>5} {len(kept):>5} {len(kept) / len(group):>6.3f}"
            f" {right:>12.3f}  {should}"
        )
    for name in sorted({str(r["set"]) for r in rows}):
        mine = [r for r in rows if r["set"] == name]
        should_keep = [r for r in mine if KINDS[str(r["kind"])]]
        wrong = [r for r in mine if not KINDS[str(r["kind"])]]
        print(
            f"{name:<14} right kept citing a hit {sum(bool(r['cites_hit']) for r in should_keep)}"
            f"/{len(should_keep)}, wrong let through {sum(bool(r['kept']) for r in wrong)}/{len(wrong)}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
