"""Measure the similarity threshold at which the citation check takes a sentence in one language to say
what a source sentence in the other says (`RAG_ANSWER__CROSS_LANGUAGE_SUPPORT`; rag_models/bundled.py).

Two parallel sets (the same paragraphs in English and Chinese, one file per document under docs/, a
title line then paragraphs separated by blank lines) give the pairs: for paragraphs whose sentence counts
agree, sentence i and its translation i are a positive pair, sentence i and the paragraph's other
sentences are negative pairs (same topic, different statement: the hard case). Prints, for each
threshold, the share of translations accepted and of other sentences accepted.

    .venv/bin/python benchmarks/cross_language_support.py ../shared/bench/xquad-en ../shared/bench/xquad-zh
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from rag_core.sentences import sentence_spans
from rag_core.settings import load_settings
from rag_models.bundled import BUNDLED_E5
from rag_models.embeddings import SentenceTransformerEmbedder, models_dir

THRESHOLDS = [0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.90]


def _paragraphs(path: Path) -> list[str]:
    return [p for p in path.read_text(encoding="utf-8").split("\n\n")[1:] if p.strip()]


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def parallel_sentences(first: Path, second: Path, limit: int) -> list[tuple[list[str], list[str]]]:
    pairs = []
    for path in sorted((first / "docs").glob("*.txt")):
        other = second / "docs" / path.name
        if not other.is_file():
            continue
        ours, theirs = _paragraphs(path), _paragraphs(other)
        if len(ours) != len(theirs):
            continue
        for a, b in zip(ours, theirs, strict=True):
            sa, sb = _sentences(a), _sentences(b)
            if len(sa) == len(sb) >= 2:
                pairs.append((sa, sb))
    random.Random(0).shuffle(pairs)
    return pairs[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("first", type=Path, help="a set in one language")
    parser.add_argument("second", type=Path, help="the same documents in the other language")
    parser.add_argument("--model", default=BUNDLED_E5, help="embedder (RAG_EMBEDDING__MODEL)")
    parser.add_argument("--paragraphs", type=int, default=60, help="paragraph pairs to use")
    args = parser.parse_args()
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(
        args.model, models_dir=models_dir(settings.embedding, settings.data_dir)
    )
    positive: list[float] = []
    negative: list[float] = []
    for ours, theirs in parallel_sentences(args.first, args.second, args.paragraphs):
        scores = embedder.embed_array(ours, query=True) @ embedder.embed_array(theirs, query=True).T
        for i in range(len(ours)):
            positive.append(float(scores[i, i]))
            negative += [float(scores[i, j]) for j in range(len(theirs)) if j != i]
    pos, neg = np.array(positive), np.array(negative)
    print(f"{len(pos)} translated sentence pairs, {len(neg)} pairs of other sentences of the same paragraph")
    print("threshold | translations accepted | other sentences accepted")
    for threshold in THRESHOLDS:
        print(f"{threshold:.2f} | {(pos >= threshold).mean():.3f} | {(neg >= threshold).mean():.3f}")


if __name__ == "__main__":
    main()
