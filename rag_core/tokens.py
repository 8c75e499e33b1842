"""Tokens for the lexical (BM25) index: jieba words for CJK text, plain words for the rest.

Documents are segmented in jieba's search mode, which also emits the parts of long words
(高速公路 -> 高速, 公路, 高速公路), so a query word matches a compound or its parts. Queries are
segmented in precise mode: expanding them too would count one compound in the question five times.

    >>> lexical_tokens("茶园的采摘季节")
    ['茶园', '采摘', '季节']
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

from rag_core.language import words
from rag_core.scripts import CJK

_CJK = re.compile(f"[{CJK}]")
_CJK_RUN = re.compile(f"[{CJK}]{{2,}}")
_WORD = re.compile(r"\w+")
# the most common function words, left out of the tokens (changing them changes the tokens: LEXICAL_VERSION)
_STOPWORDS = words("lexical_stopwords")
# Words that ask or only join rather than say: left out when measuring how much of a question a passage
# covers and when matching it against sentences.
QUESTION_WORDS = words("question_words")
_jieba_lock = threading.Lock()
_jieba_ready = False


def jieba_module():  # type: ignore[no-untyped-def]
    """jieba, initialised once (quietly, thread-safe)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


CJK_DOMINANT = 0.3
"""Text with at least this share of CJK characters (among non-space ones) is treated as CJK text."""


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def script_of(text: str) -> str:
    """ "cjk" for mostly Chinese/Japanese text, else "latin": the two kinds of text a collection mixes."""
    return "cjk" if cjk_share(text) >= CJK_DOMINANT else "latin"


def cjk_share(text: str, window: int = 2000) -> float:
    """Share of CJK characters among the non-space characters of the first `window` characters."""
    head = text[:window]
    letters = sum(1 for ch in head if not ch.isspace())
    return len(_CJK.findall(head)) / letters if letters else 0.0


LEXICAL_VERSION = 2
"""Bumped when the tokens of a text change: documents ingested before are re-indexed."""

_SCRIPT_PART = re.compile(r"[^\W\d_]+|\d+")
_ORDINAL_SUFFIXES = frozenset("st nd rd th".split())


def _with_parts(tokens: list[str]) -> list[str]:
    """Each token, followed by its letter and digit parts when it mixes them (acme2031 -> acme2031,
    acme, 2031), so "ACME2031" and "ACME 2031" match; one-character parts and ordinal endings
    (15th) add nothing."""
    out: list[str] = []
    for token in tokens:
        out.append(token)
        parts = _SCRIPT_PART.findall(token)
        if len(parts) > 1:
            out += [p for p in parts if len(p) > 1 and p not in _ORDINAL_SUFFIXES]
    return out


_KEPT_CHARS = 600
"""Texts up to this long (questions, sentences) keep their tokens: reranking and corroboration segment the
same candidate sentences; whole chunks at ingest are tokenised once and not kept."""


def lexical_tokens(text: str, *, query: bool = False) -> list[str]:
    """Lower-cased word tokens without punctuation and the most common function words."""
    if len(text) <= _KEPT_CHARS:
        return list(_kept_tokens(text, query))
    return list(_lexical_tokens(text, query))


@lru_cache(maxsize=8192)
def _kept_tokens(text: str, query: bool) -> tuple[str, ...]:
    return _lexical_tokens(text, query)


def _lexical_tokens(text: str, query: bool) -> tuple[str, ...]:
    if has_cjk(text):
        jieba = jieba_module()
        words = jieba.lcut(text) if query else jieba.lcut_for_search(text)
        tokens = [t for w in words for t in _WORD.findall(w.lower())]
    else:
        tokens = _WORD.findall(text.lower())
    return tuple(t for t in _with_parts(tokens) if t not in _STOPWORDS)


def question_terms(question: str) -> list[str]:
    """The question's lexical tokens that say what it is about: no question words, and none of jieba's
    "which ..." words (哪家, 哪位, 哪座: 家 in 哪家 is not about a family)."""
    return [
        t for t in lexical_tokens(question, query=True) if t not in QUESTION_WORDS and not t.startswith("哪")
    ]


@lru_cache(maxsize=8192)  # reranking and compression match the same candidate sentences
def match_terms(text: str, *, query: bool = False) -> frozenset[str]:
    """Terms for matching a question against sentences (reranking, compression): the lexical tokens,
    English words stemmed (died, die -> die), plus the characters and character bigrams of
    Chinese/Japanese text, so that words jieba segments differently in the question and in a sentence
    (茶叶产区 / 茶叶产地) still share their bigrams, and words that share a character (捐款 / 捐赠)
    still match a little: matching weighs each term by its rarity among the candidate sentences, so a
    common character counts for little. A question's terms leave out question words, and its
    characters and bigrams stay within its words (多少个茶园 yields no 个茶, no 少)."""
    tokens = set(question_terms(text) if query else lexical_tokens(text))
    tokens = set(match_forms(tokens))
    if not has_cjk(text):
        return frozenset(tokens)
    runs = [t for t in tokens if _CJK_RUN.fullmatch(t)] if query else _CJK_RUN.findall(text)
    characters = {ch for run in runs for ch in run}
    return frozenset(tokens | characters | {run[i : i + 2] for run in runs for i in range(len(run) - 1)})


_stemmers = threading.local()  # a Snowball stemmer keeps state between calls: one per thread


def match_forms(tokens: Iterable[str]) -> list[str]:
    """Each token in the form matching compares: English words by their Snowball stem (died -> die,
    strains -> strain), the rest as they are."""
    return [_stem(t) if t.isascii() and t.isalpha() and len(t) > 2 else t for t in tokens]


@lru_cache(maxsize=65536)  # a collection's vocabulary repeats; stemming in Python costs ~25 us a word
def _stem(word: str) -> str:
    import snowballstemmer

    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))
