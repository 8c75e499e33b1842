"""Tokens for the lexical (BM25) index: jieba words for CJK text, plain words for the rest.

Index and query use the same function, so a query word matches exactly the tokens that were indexed.
jieba's search mode also emits the parts of long words (橄榄球 -> 橄榄, 橄榄球), so a query that
segments a compound differently from the document still matches.

    >>> lexical_tokens("黑豹队的防守")
    ['黑豹', '队', '防守']
"""

from __future__ import annotations

import logging
import re
import threading

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]")
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 被 把 之 其 这 那 个 为 于 以 对 从 中 上 下 着 过 吗 呢 吧 啊 "
    "a an the of to in on at by for and or is are was were be been it its as with that this".split()
)
_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():  # type: ignore[no-untyped-def]
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def lexical_tokens(text: str) -> list[str]:
    """Lower-cased word tokens without punctuation and the most common function words."""
    if has_cjk(text):
        words = _jieba().lcut_for_search(text)
        tokens = [t for w in words for t in _WORD.findall(w.lower())]
    else:
        tokens = _WORD.findall(text.lower())
    return [t for t in tokens if t not in _STOPWORDS]
