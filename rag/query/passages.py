"""Passages, not snippets: each ranked chunk grows into a passage of whole sentences around it.

Chunks are small so that search can pin down where a question is answered (small-to-big retrieval, as
LlamaIndex's sentence-window and LangChain's parent-document retrievers do); the answer itself often
runs past a chunk's edge (a list of steps, the second of two modes, a table's rows). So each of the best
chunks is widened with its neighbours in the document, a sentence after and a sentence before in turn,
up to `passage_chars`, never across a heading or a page (a passage is cited with one section and one
page). Chunks that a wider passage already holds add nothing; passages of one document that come to
touch are merged. The passages are handed on whole, best first, until `top_k` of them or
`context_chars` of text.

    builder = PassageBuilder(catalog, passage_chars=800, context_chars=4000)
    passages = builder.build(info, reranked_hits, top_k=5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rag_core.sentences import sentence_spans
from rag_core.types import Chunk, ScoredChunk
from vectorstore.catalog import Catalog
from vectorstore.records import CollectionInfo

MIN_PASSAGE_CHARS = 120
"""A passage cut shorter than this to fit what is left of the context is left out instead."""


@dataclass(slots=True)
class Passage:
    """One context item: a span of one document, possibly built from several chunks."""

    doc_id: str
    source: str
    title: str
    page: int | None
    section: str
    text: str
    start: int
    end: int
    score: float
    dense: float = 0.0  # best dense similarity of its chunks to the question (0 if none was computed)
    chunk_ids: list[str] = field(default_factory=list)
    chunk_indexes: list[int] = field(default_factory=list)
    core: str = ""  # the sentences that bear most on the question (set for the prompt by compression)


def _touches(p: Passage, c: Chunk) -> bool:
    if p.doc_id != c.doc_id or p.page != c.page:
        return False
    return (c.start <= p.end + 2 and c.end >= p.start - 2) or any(
        abs(c.index - i) == 1 for i in p.chunk_indexes
    )


def merge_chunks(hits: Sequence[ScoredChunk]) -> list[Passage]:
    """Fold each chunk into an earlier passage of the same document when their spans touch or overlap."""
    passages: list[Passage] = []
    for hit in hits:
        c = hit.chunk
        for p in passages:
            if _touches(p, c):
                _extend(p, c.text, c.start, c.end)
                p.dense = max(p.dense, hit.scores.get("dense", 0.0))
                p.chunk_ids.append(c.id)
                p.chunk_indexes.append(c.index)
                break
        else:
            passages.append(_passage(c, hit.score, hit.scores.get("dense", 0.0)))
    return passages


def _passage(c: Chunk, score: float, dense: float) -> Passage:
    return Passage(
        c.doc_id,
        c.source,
        c.title,
        c.page,
        c.section,
        c.text,
        c.start,
        c.end,
        score,
        dense,
        [c.id],
        [c.index],
    )


def _extend(p: Passage, text: str, start: int, end: int) -> None:
    """Add a span of the same document to the passage; a gap between the two becomes white space of
    the same length, so offsets stay document offsets."""
    if start >= p.start and end <= p.end:
        return
    if start <= p.start and end >= p.end:
        p.text, p.start, p.end = text, start, end
    elif start > p.start:
        overlap = p.end - start
        p.text = p.text + (text[overlap:] if overlap >= 0 else _gap(-overlap) + text)
        p.end = end
    else:
        overlap = end - p.start
        p.text = (text[: len(text) - overlap] if overlap >= 0 else text + _gap(-overlap)) + p.text
        p.start = start


def _gap(n: int) -> str:
    return " " if n == 1 else "\n" * n


def sentence_window(text: str, core: tuple[int, int], limit: int) -> tuple[int, int]:
    """The span of whole sentences of `text` that holds `core` (the sentences it touches) and grows
    around it, a sentence after and then one before, while it stays within `limit` characters. A core
    longer than `limit` is returned as it is."""
    spans = sentence_spans(text) or [(0, len(text))]
    inside = [i for i, (a, b) in enumerate(spans) if a < core[1] and b > core[0]]
    if not inside:
        return core
    lo, hi = inside[0], inside[-1]
    grew = True
    while grew:
        grew = False
        if hi + 1 < len(spans) and spans[hi + 1][1] - spans[lo][0] <= limit:
            hi += 1
            grew = True
        if lo > 0 and spans[hi][1] - spans[lo - 1][0] <= limit:
            lo -= 1
            grew = True
    return spans[lo][0], spans[hi][1]


class PassageBuilder:
    def __init__(
        self, catalog: Catalog, *, passage_chars: int, context_chars: int, reach_chunks: int = 4
    ) -> None:
        self.catalog = catalog
        self.passage_chars = passage_chars
        self.context_chars = context_chars
        self.reach_chunks = reach_chunks

    def build(self, info: CollectionInfo, hits: Sequence[ScoredChunk], top_k: int) -> list[Passage]:
        chosen: list[Passage] = []
        used = 0
        for seed in merge_chunks(hits):
            room = self.context_chars - used
            if len(chosen) >= top_k or room < MIN_PASSAGE_CHARS:
                break
            if any(_holds(p, seed) for p in chosen):
                continue
            passage = self._widen(info, seed, room)
            near = next((p for p in chosen if _same_region(p, passage)), None)
            if near is None:
                chosen.append(passage)
                used += len(passage.text)
                continue
            before = len(near.text)
            if (
                used + max(near.end, passage.end) - min(near.start, passage.start) - before
                > self.context_chars
            ):
                continue
            _extend(near, passage.text, passage.start, passage.end)
            near.chunk_ids += [i for i in passage.chunk_ids if i not in near.chunk_ids]
            near.chunk_indexes = sorted({*near.chunk_indexes, *passage.chunk_indexes})
            near.dense = max(near.dense, passage.dense)
            used += len(near.text) - before
        return chosen

    def _widen(self, info: CollectionInfo, seed: Passage, room: int) -> Passage:
        """The seed grown with its neighbours of the same section and page to `passage_chars` (never
        less than the seed itself), then cut to `room`, what is left of the context."""
        first, last = min(seed.chunk_indexes), max(seed.chunk_indexes)
        around = self.catalog.chunk_range(
            info.name, seed.doc_id, first - self.reach_chunks, last + self.reach_chunks
        )
        region = replace(seed, chunk_ids=list(seed.chunk_ids), chunk_indexes=list(seed.chunk_indexes))
        same = {c.index: c for c in around if c.page == seed.page and c.section == seed.section}
        for step, edge in ((-1, first), (1, last)):
            index = edge + step
            while index in same:
                c = same[index]
                _extend(region, c.text, c.start, c.end)
                region.chunk_ids.append(c.id)
                region.chunk_indexes.append(c.index)
                index += step
        core = (seed.start - region.start, seed.end - region.start)
        a, b = sentence_window(region.text, core, min(self.passage_chars, room))
        if b - a > room:  # the seed alone is longer than what is left: its first sentences that fit
            cut = [e for _, e in sentence_spans(region.text[a : a + room])]
            b = a + (cut[-2] if len(cut) > 1 else room)
        start, end = region.start + a, region.start + b
        inside = [c for c in same.values() if c.start < end and c.end > start]
        return replace(
            seed,
            text=region.text[a:b],
            start=start,
            end=end,
            chunk_ids=list(dict.fromkeys([*seed.chunk_ids, *(c.id for c in inside)])),
            chunk_indexes=sorted({*seed.chunk_indexes, *(c.index for c in inside)}),
        )


def _holds(p: Passage, seed: Passage) -> bool:
    return p.doc_id == seed.doc_id and p.page == seed.page and p.start <= seed.start and seed.end <= p.end


def _same_region(p: Passage, q: Passage) -> bool:
    return (
        p.doc_id == q.doc_id
        and p.page == q.page
        and p.section == q.section
        and q.start <= p.end + 2
        and q.end >= p.start - 2
    )
