"""Which documents a passage mentions by title, for following references between documents.

Titles are matched as whole word sequences, case-insensitively; single-word titles are too ambiguous
("Force", "Teacher") and are not matched. The matcher is rebuilt only when the collection changes.

    mentioned = TitleIndex(catalog).mentioned(info, passage_text)   # {doc_id, ...}
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict

from rag_core.tokens import has_cjk
from vectorstore.catalog import Catalog
from vectorstore.records import CollectionInfo

_WORD = re.compile(r"\w+")
MAX_WORDS = 8


def normal_words(text: str) -> str:
    """`text` as its lower-case words joined by single spaces: the form in which titles compare."""
    return " ".join(_WORD.findall(text.lower()))


class TitleIndex:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cache: dict[str, tuple[tuple[float, int], dict[str, set[str]], dict[str, set[str]]]] = {}
        self._lock = threading.Lock()

    def _matchers(self, info: CollectionInfo) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        stamp = self.catalog.change_stamp(info.name)
        cached = self._cache.get(info.name)
        if cached and cached[0] == stamp:
            return cached[1], cached[2]
        words: dict[str, set[str]] = defaultdict(set)
        cjk: dict[str, set[str]] = defaultdict(set)
        for doc_id, title in self.catalog.titles(info.name):
            if has_cjk(title):
                if len(title.strip()) >= 3:
                    cjk[title.strip()].add(doc_id)
                continue
            normal = normal_words(title)
            if 2 <= normal.count(" ") + 1 <= MAX_WORDS:
                words[normal].add(doc_id)
        with self._lock:
            self._cache[info.name] = (stamp, dict(words), dict(cjk))
        return words, cjk

    def mentioned(self, info: CollectionInfo, text: str) -> set[str]:
        words, cjk = self._matchers(info)
        tokens = _WORD.findall(text.lower())
        found: set[str] = set()
        for i in range(len(tokens)):
            for n in range(2, MAX_WORDS + 1):
                if i + n > len(tokens):
                    break
                found |= words.get(" ".join(tokens[i : i + n]), set())
        if cjk and has_cjk(text):
            for title, ids in cjk.items():
                if title in text:
                    found |= ids
        return found
