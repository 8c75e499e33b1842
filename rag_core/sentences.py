"""Sentences and pieces of text: where sentences end in English and Chinese, for chunking, compression,
reranking and the citation check alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag_core.language import words

_SENTENCE_END = re.compile(
    r"[。！？；]+[”’」』）)\"']*"  # Chinese sentence ends, with closing quotes
    r"|[.!?]+[\"')\]’”]*(?=\s|$)"  # English sentence ends (abbreviations filtered below)
    r"|\n[ \t]*\n\s*"  # paragraph breaks
    r"|\n(?=[ \t]*(?:[-*+•·▪]\s|\d{1,3}[.)、]\s?|[|]|[A-Za-z][\w ]{0,40}:\s))"  # list, table, "Key: v"
)
_ABBREVIATIONS = words("abbreviations", ("en",))  # Dr., approx., Jan.: no sentence ends there
_LOWERCASE_NEXT = re.compile(r"[ \t]+[a-z]")  # "E. c. minor": a sentence does not open in lower case
_WORD_BEFORE_DOT = re.compile(r"(?:^|[\s(\[\"'])([\w.]{1,6})$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """A '.' after an initial (J.), a known abbreviation (Dr., e.g.) or a list number (1.)."""
    match = _WORD_BEFORE_DOT.search(text, max(0, dot - 8), dot)
    if match is None:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True
    if "." in word and all(len(part) <= 1 for part in word.split(".")):
        return True
    if word.isdigit() and len(word) <= 3 and text.rfind("\n", 0, dot) == match.start(1) - 1:
        return True
    return word.replace(".", "").lower() in _ABBREVIATIONS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences in `text`, trimmed of surrounding whitespace, never empty."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if (
            text[match.start()] == "."
            and match.end() - match.start() == 1
            and (_is_abbreviation(text, match.start()) or _LOWERCASE_NEXT.match(text, match.end()))
        ):
            continue
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


def text_segments(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """`text` in pieces of at most `limit` characters, each with its offset, cut after a space where
    there is one in the second half of the piece."""
    start = 0
    while len(text) - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        end = cut + 1 if cut >= 0 else start + limit
        yield start, text[start:end]
        start = end
    yield start, text[start:]
