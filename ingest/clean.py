"""Text clean-up shared by every loader: whitespace, control characters, ligatures, mojibake quotes.

Each step is one C-level pass (regex, str.translate, unicodedata) and most are skipped when a cheap
search finds nothing to fix, so cleaning costs a small fraction of parsing and far less than embedding.
"""

from __future__ import annotations

import os
import re
import unicodedata

# Importing `unstructured` sends a telemetry request unless opted out: a local, private service must not.
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

from unstructured.cleaners.core import clean_ligatures, replace_unicode_quotes
from unstructured.nlp.patterns import AMBIGUOUS_BULLETS, UNICODE_BULLETS

__all__ = ["clean_text"]

# Typographic ligatures only: clean_ligatures also maps æ/œ, which are letters in Danish or French.
_LIGATURES = re.compile("[\ufb00-\ufb06\u02aa\u0239\u02a6]+")
_MOJIBAKE = re.compile("[\x91-\x94]|&apos;|â\x80")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u2060\ufeff\ufffe\uffff\u00ad]")
_ASCII_CONTROL = "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]))
_ANY_BREAK = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_ASCII_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e"
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x1c-\x1e\x85\u2028]")
_PAGE_BREAKS = re.compile("[\x0c\u2029]")
_UNICODE_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACES = re.compile("[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_RUNS = re.compile("  +")
_TRAILING = re.compile("[ \t]+\n")
_BLANK_LINES = re.compile("\n(?:[ \t]*\n){2,}")
_BULLET_CHARS = "".join(
    re.escape(b) for b in UNICODE_BULLETS if b not in AMBIGUOUS_BULLETS and len(b) == 1 and b != "\u3164"
)
_BULLETS = re.compile(f"^([ \t]*)(?:[{_BULLET_CHARS}\uf0a7\uf0b7\u25aa\u25a0])[ \t]*", re.MULTILINE)


def clean_text(text: str) -> str:
    """Normalise one piece of extracted text. Paragraph breaks (blank lines) and indentation survive.

    Costly regex passes run only after a substring check (memchr speed) says there is work to do.
    """
    if not text:
        return ""
    ascii_only = text.isascii()
    if not ascii_only:
        if _MOJIBAKE.search(text):
            text = replace_unicode_quotes(text)
        if _LIGATURES.search(text):
            text = _LIGATURES.sub(lambda m: clean_ligatures(m.group()), text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = _BULLETS.sub(r"\1- ", text)
        if _UNICODE_SPACES.search(text):
            text = _UNICODE_SPACES.sub(" ", text)
    if any(c in text for c in _ASCII_BREAKS) if ascii_only else _ANY_BREAK.search(text):
        text = _LINE_BREAKS.sub("\n", text)
        text = _PAGE_BREAKS.sub("\n\n", text)
    if any(c in text for c in _ASCII_CONTROL) if ascii_only else _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if "  " in text:
        text = _SPACE_RUNS.sub(_inner_space, text)
    if " \n" in text or "\t\n" in text:
        text = _TRAILING.sub("\n", text)
    if "\n\n\n" in text or "\n \n" in text or "\n\t\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip("\n \t")


def _inner_space(match: re.Match[str]) -> str:
    """Runs of spaces become one space, except indentation at the start of a line."""
    start = match.start()
    return match.group() if start == 0 or match.string[start - 1] == "\n" else " "


def collapse_spaces(text: str) -> str:
    """One-line form: every run of whitespace becomes one space (headings, table cells, titles)."""
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()
