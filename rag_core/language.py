"""Language resources: word lists per language, read from data files, not written in code.

Each (language, kind) is a UTF-8 text file shipped with the package,
`rag_core/resources/lang/<lang>/<kind>.txt`:
one entry (a word or a phrase) a line, lower case; `#` starts a comment, blank lines are ignored. Code that
needs a regular expression builds it from the entries (`alternation`) and keeps the grammar around them
(word boundaries, lookarounds) itself: the data files hold the words, the code holds the grammar.

    words("question_words")                # frozenset of the English and Chinese entries
    words("stopwords", ("en",))            # English only
    alternation("refusal_lead_ins", ("en",))  # '(?:according\\s+to|based\\s+on|from|in)', longest first
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

LANGUAGES = ("en", "zh")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def words(kind: str, langs: Sequence[str] = LANGUAGES) -> frozenset[str]:
    """The entries of `kind` in each of `langs`, as a set (for membership tests)."""
    return frozenset(phrases(kind, langs))


def phrases(kind: str, langs: Sequence[str] = LANGUAGES) -> tuple[str, ...]:
    """The entries of `kind` in each of `langs`, longest first (in file order among equal lengths), without
    repeats: the order for a regular-expression alternation, where the longest entry should be tried first."""
    return _phrases(kind, tuple(langs))


def alternation(kind: str, langs: Sequence[str] = LANGUAGES) -> str:
    """A non-capturing group matching any entry of `kind` (escaped, longest first); the words of a phrase
    are matched across any white space ("according to" matches "according\\n to")."""
    entries = phrases(kind, langs)
    if not entries:  # an empty group would match anywhere
        raise ValueError(f"language resource {kind!r} has no entries for {', '.join(langs)}")
    return "(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in entries) + ")"


@cache
def _phrases(kind: str, langs: tuple[str, ...]) -> tuple[str, ...]:
    entries = dict.fromkeys(entry for lang in langs for entry in _entries(lang, kind))
    return tuple(sorted(entries, key=len, reverse=True))  # sorted() is stable: file order among equals


@cache
def _entries(lang: str, kind: str) -> tuple[str, ...]:
    """One file's entries, in file order: stripped, lower-cased, inner white space as single spaces."""
    if not _NAME.fullmatch(lang) or not _NAME.fullmatch(kind):
        raise ValueError(f"not a language resource name: language {lang!r}, kind {kind!r}")
    path = _directory() / lang / f"{kind}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no language resource {kind!r} for language {lang!r}: {path} does not exist"
        ) from None
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    return tuple(dict.fromkeys(" ".join(line.split()).lower() for line in lines if line.strip()))


def _directory() -> Traversable:
    """Where the files are: inside the installed package (a directory, or a zip archive)."""
    return resources.files("rag_core") / "resources" / "lang"
