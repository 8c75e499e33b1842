"""Structure-aware chunking measured in embedder tokens.

Chunks never cross a section (heading or page) unless a fragment is too small to stand alone; inside a
section they end at sentence boundaries (English `.!?`, Chinese `。！？；`, paragraph breaks) and
consecutive chunks share up to `overlap_tokens` of whole sentences. A single line break is a boundary
only before a list item, table row or "Key: value" line; other line breaks are soft wraps inside a
paragraph. A sentence longer than a chunk is cut at token boundaries.

    chunker = Chunker(embedder, chunk_tokens=200, overlap_tokens=32, min_chunk_tokens=24)
    drafts = chunker.split(loaded_document)     # list[ChunkDraft], spans index loaded_document.text
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.types import LoadedDocument

SECTION_SEPARATOR = "\n\n"
_SENTENCE_END = re.compile(
    r"[。！？；]+[”’」』）)\"']*"  # Chinese sentence ends, with closing quotes
    r"|(?<!^\d)(?<!^\d\d)(?<!\n\d)(?<!\n\d\d)[.!?]+[\"')\]’”]*(?=\s|$)"  # English ends, not "1." items
    r"|\n[ \t]*\n\s*"  # paragraph breaks
    r"|\n(?=[ \t]*(?:[-*+•·▪]\s|\d{1,3}[.)、]\s?|[|]|[A-Za-z][\w ]{0,40}:\s))"  # list, table, "Key: v"
)


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


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences in `text`, trimmed of surrounding whitespace, never empty."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


@dataclass(slots=True)
class _Piece:
    start: int  # offsets in the document text
    end: int
    tokens: int


class Chunker:
    def __init__(
        self,
        counter: TokenCounter,
        *,
        chunk_tokens: int = 200,
        overlap_tokens: int = 32,
        min_chunk_tokens: int = 24,
    ) -> None:
        if overlap_tokens >= chunk_tokens:
            raise ValueError("overlap_tokens must be smaller than chunk_tokens")
        self.counter = counter
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.min_chunk_tokens = min_chunk_tokens

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
            for start, end, tokens in self._pack(text, pieces):
                drafts.append(ChunkDraft(text[start:end], start, end, section.page, section.headings, tokens))
        return self._merge_small(text, drafts)

    def _pack(self, text: str, pieces: list[_Piece]) -> list[tuple[int, int, int]]:
        out: list[tuple[int, int, int]] = []
        current: list[_Piece] = []

        def emit() -> None:
            if current:
                out.append((current[0].start, current[-1].end, sum(p.tokens for p in current)))

        for piece in pieces:
            if piece.tokens > self.chunk_tokens:
                emit()
                current = []
                out.extend(self._cut(text, piece))
                continue
            if current and sum(p.tokens for p in current) + piece.tokens > self.chunk_tokens:
                emit()
                current = self._overlap_tail(current)
                while current and sum(p.tokens for p in current) + piece.tokens > self.chunk_tokens:
                    current.pop(0)
            current.append(piece)
        emit()
        return out

    def _overlap_tail(self, pieces: list[_Piece]) -> list[_Piece]:
        tail: list[_Piece] = []
        total = 0
        for piece in reversed(pieces[1:]):
            if total + piece.tokens > self.overlap_tokens:
                break
            tail.insert(0, piece)
            total += piece.tokens
        return tail

    def _cut(self, text: str, piece: _Piece) -> list[tuple[int, int, int]]:
        spans = self.counter.token_spans(text[piece.start : piece.end])
        step = self.chunk_tokens - self.overlap_tokens
        out = []
        for first in range(0, len(spans), step):
            window = spans[first : first + self.chunk_tokens]
            out.append((piece.start + window[0][0], piece.start + window[-1][1], len(window)))
            if first + self.chunk_tokens >= len(spans):
                break
        return out

    def _merge_small(self, text: str, drafts: list[ChunkDraft]) -> list[ChunkDraft]:
        """Fold fragments under `min_chunk_tokens` into a neighbour when the result still fits."""
        limit = self.chunk_tokens + self.min_chunk_tokens
        merged: list[ChunkDraft] = []
        for draft in drafts:
            prev = merged[-1] if merged else None
            small = prev is not None and min(prev.tokens, draft.tokens) < self.min_chunk_tokens
            if prev and small and prev.tokens + draft.tokens <= limit and draft.start >= prev.end:
                merged[-1] = ChunkDraft(
                    text[prev.start : draft.end],
                    prev.start,
                    draft.end,
                    prev.page if prev.page is not None else draft.page,
                    prev.headings if prev.tokens >= draft.tokens else draft.headings,
                    prev.tokens + draft.tokens,
                )
                continue
            merged.append(draft)
        return merged
