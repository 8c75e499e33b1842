"""Text normalisation and matching for the metrics, independent of the pipeline's own tokenisers.

Answers are matched after NFKC normalisation (full-width digits and letters become half-width) and
case folding. In Chinese (the question's `lang` is zh, or the answer has CJK characters) all whitespace
is removed before a substring test; otherwise whitespace runs collapse to one space and the answer must
sit on word boundaries, so `no` does not match inside `know`.

    >>> contains_answer("茶园去年采摘了 512 公斤", ["５１２公斤"], "zh")
    True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rag_core.scripts import CJK_AND_HANGUL

_CJK = re.compile(f"[{CJK_AND_HANGUL}]")
_CJK_RUN = re.compile(f"[{CJK_AND_HANGUL}]+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")
_MARKER = re.compile(r"\s*[\[【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】]")
_LEADING = re.compile(rf"(?:{_MARKER.pattern})+")
_SENTENCE_END = re.compile(r"[。！？；!?]+|\.+(?=\s|$)|\n+")
STOPWORDS = frozenset(
    "a an the of to in on at by for and or but is are was were be been being it its as with that this "
    "these those from has have had do does did not no so than then there their they he she his her "
    "which who whom what when where why how also can could would should will may might".split()
)


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def normalize(text: str, *, cjk: bool) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub("", text) if cjk else _SPACE.sub(" ", text).strip()


def _answer_pattern(answer: str) -> re.Pattern[str]:
    head = r"(?<!\w)" if answer[0].isalnum() else ""
    tail = r"(?!\w)" if answer[-1].isalnum() else ""
    return re.compile(head + re.escape(answer) + tail)


def contains_answer(text: str, answers: Iterable[str], lang: str = "en") -> bool:
    """Whether `text` contains one of `answers` (see the module docstring for the normalisation)."""
    plain: dict[bool, str] = {}
    for answer in answers:
        cjk = lang == "zh" or has_cjk(answer)
        needle = normalize(answer, cjk=cjk)
        if not needle:
            continue
        if cjk not in plain:
            plain[cjk] = normalize(text, cjk=cjk)
        haystack = plain[cjk]
        if cjk:
            if needle in haystack:
                return True
        elif _answer_pattern(needle).search(haystack):
            return True
    return False


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def citation_markers(text: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(text) for n in re.findall(r"\d+", m.group(0))]


def leading_markers(text: str) -> tuple[list[int], str]:
    """The citation numbers that open `text`, and the rest of it."""
    match = _LEADING.match(text)
    if match is None:
        return [], text
    return citation_markers(match.group(0)), text[match.end() :]


def sentences(text: str) -> list[str]:
    """Sentences split after `.!?` (followed by a space or the end), `。！？；` and line breaks."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        parts.append(text[start : match.end()])
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def content_tokens(text: str) -> set[str]:
    """Lower-cased words other than common English function words; CJK runs as character bigrams."""
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: set[str] = set()
    for run in _CJK_RUN.findall(text):
        tokens.update(run if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    for word in _WORD.findall(_CJK_RUN.sub(" ", text)):
        if word not in STOPWORDS:
            tokens.add(word)
    return tokens
