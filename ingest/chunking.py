"""Structure-aware chunking measured in embedder tokens.

Chunks never cross a page, nor a heading unless a fragment is too small to stand alone; inside a
section they end at sentence boundaries (English `.!?`, Chinese `。！？；`, paragraph breaks) and
consecutive chunks share up to `overlap_tokens` of whole sentences. A single line break is a boundary
only before a list item, table row or "Key: value" line; other line breaks are soft wraps inside a
paragraph. A sentence longer than a chunk is cut at token boundaries.

Sizes are per script: embedder tokenizers cut Chinese and Japanese into about one token per character,
so the same token count holds far less text than in English; `cjk_chunk_tokens` applies to sections that
are mostly CJK (measured best: 128 tokens on English sets, 256 on Chinese ones).

    chunker = Chunker(embedder, chunk_tokens=128, overlap_tokens=24, min_chunk_tokens=24)
    drafts = chunker.split(loaded_document)     # list[ChunkDraft], spans index loaded_document.text
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag_core.sentences import sentence_spans, text_segments
from rag_core.tokens import CJK_DOMINANT, cjk_share
from rag_core.types import LoadedDocument

CHUNKER_VERSION = 2
"""Bumped when chunk boundaries change (sentence rules, sizes): documents ingested before are re-chunked."""

SECTION_SEPARATOR = "\n\n"


class TokenCounter(Protocol):
    def token_lengths(self, texts: Sequence[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    text: str
    start: int
    end: int
    page: int | None
    headings: tuple[str, ...]
    tokens: int

    @property
    def section(self) -> str:
        return " > ".join(self.headings)


@dataclass(frozen=True, slots=True)
class _Size:
    chunk: int
    overlap: int


@dataclass(slots=True)
class _Piece:
    start: int  # offsets in the document text
    end: int
    tokens: int


_CUT_SEGMENT_CHARS = 100_000


class Chunker:
    def __init__(
        self,
        counter: TokenCounter,
        *,
        chunk_tokens: int = 128,
        overlap_tokens: int = 24,
        min_chunk_tokens: int = 24,
        cjk_chunk_tokens: int | None = None,
    ) -> None:
        if overlap_tokens >= chunk_tokens:
            raise ValueError("overlap_tokens must be smaller than chunk_tokens")
        self.counter = counter
        self.min_chunk_tokens = min_chunk_tokens
        self.latin = _Size(chunk_tokens, overlap_tokens)
        cjk = cjk_chunk_tokens or chunk_tokens
        self.cjk = _Size(cjk, overlap_tokens * cjk // chunk_tokens)

    def _size(self, text: str) -> _Size:
        return self.cjk if cjk_share(text) >= CJK_DOMINANT else self.latin

    def split(self, doc: LoadedDocument) -> list[ChunkDraft]:
        text = doc.text
        sections: list[tuple[int, list[_Piece]]] = []
        all_pieces: list[_Piece] = []
        offset = 0
        for i, section in enumerate(doc.sections):
            pieces = [_Piece(offset + a, offset + b, 0) for a, b in sentence_spans(section.text)]
            sections.append((i, pieces))
            all_pieces.extend(pieces)
            offset += len(section.text) + len(SECTION_SEPARATOR)
        lengths = (
            self.counter.token_lengths([text[p.start : p.end] for p in all_pieces]) if all_pieces else []
        )
        for piece, n in zip(all_pieces, lengths, strict=True):
            piece.tokens = n

        drafts: list[ChunkDraft] = []
        for i, pieces in sections:
            section = doc.sections[i]
            for start, end, tokens in self._pack(text, pieces, self._size(section.text)):
                drafts.append(ChunkDraft(text[start:end], start, end, section.page, section.headings, tokens))
        return self._merge_small(text, drafts)

    def _pack(self, text: str, pieces: list[_Piece], size: _Size) -> list[tuple[int, int, int]]:
        out: list[tuple[int, int, int]] = []
        current: list[_Piece] = []

        def emit() -> None:
            if current:
                out.append((current[0].start, current[-1].end, sum(p.tokens for p in current)))

        for piece in pieces:
            if piece.tokens > size.chunk:
                emit()
                current = []
                out.extend(self._cut(text, piece, size))
                continue
            if current and sum(p.tokens for p in current) + piece.tokens > size.chunk:
                emit()
                current = self._overlap_tail(current, size.overlap)
                while current and sum(p.tokens for p in current) + piece.tokens > size.chunk:
                    current.pop(0)
            current.append(piece)
        emit()
        return out

    def _overlap_tail(self, pieces: list[_Piece], overlap: int) -> list[_Piece]:
        tail: list[_Piece] = []
        total = 0
        for piece in reversed(pieces[1:]):
            if total + piece.tokens > overlap:
                break
            tail.insert(0, piece)
            total += piece.tokens
        return tail

    def _cut(self, text: str, piece: _Piece, size: _Size) -> list[tuple[int, int, int]]:
        """A sentence longer than a chunk, cut into token windows; a segment at a time, so that a file
        with no sentence breaks at all does not hold every token's span at once."""
        out = []
        for offset, segment in text_segments(text[piece.start : piece.end], _CUT_SEGMENT_CHARS):
            spans = self.counter.token_spans(segment)
            base = piece.start + offset
            for first in range(0, len(spans), size.chunk - size.overlap):
                window = spans[first : first + size.chunk]
                out.append((base + window[0][0], base + window[-1][1], len(window)))
                if first + size.chunk >= len(spans):
                    break
        return out

    def _merge_small(self, text: str, drafts: list[ChunkDraft]) -> list[ChunkDraft]:
        """Fold fragments under `min_chunk_tokens` into a neighbour when the result still fits."""
        merged: list[ChunkDraft] = []
        for draft in drafts:
            prev = merged[-1] if merged else None
            small = prev is not None and min(prev.tokens, draft.tokens) < self.min_chunk_tokens
            limit = self._size(draft.text).chunk + self.min_chunk_tokens
            same_page = prev is not None and prev.page == draft.page  # a citation names one page
            fits = prev is not None and prev.tokens + draft.tokens <= limit and draft.start >= prev.end
            if prev and small and same_page and fits:
                merged[-1] = ChunkDraft(
                    text[prev.start : draft.end],
                    prev.start,
                    draft.end,
                    prev.page,
                    prev.headings if prev.tokens >= draft.tokens else draft.headings,
                    prev.tokens + draft.tokens,
                )
                continue
            merged.append(draft)
        return merged
