"""Numbered names a question pins down: NR-8, GPT4, A320, version 5.0, Apollo 11. Evidence about the
NR-7 does not answer a question about the NR-8, though every other word of it matches.

    numbered_names("How long does the NR-8 run?")     # {("nr", "8")}
    numbered_names("What changed in version 5.0?")    # {("version", "5.0")}
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Set

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_NUMBER = r"(\d+(?:\.\d+)*)(?![A-Za-z0-9_]|\.\d)"
_GLUED = re.compile(r"(?<![A-Za-z0-9_.\-])([A-Za-z]{1,12})-?" + _NUMBER)  # NR-8, GPT4, A320, MU5735
_SPACED = re.compile(
    r"(?<![A-Za-z0-9_])([A-Z][A-Za-z]{2,}|version|model|release|chapter|section)\s+" + _NUMBER
)
_NOT_NAMES = ENGLISH_STOP_WORDS | frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "what which who whom whose when where why how".split()
)


def numbered_names(text: str) -> frozenset[tuple[str, str]]:
    """(name, number) pairs, the name lower-cased."""
    found = {(m.group(1).lower(), m.group(2)) for p in (_GLUED, _SPACED) for m in p.finditer(text)}
    return frozenset((name, number) for name, number in found if name not in _NOT_NAMES)


def other_numbers(asked: Set[tuple[str, str]], named: Set[tuple[str, str]]) -> frozenset[str]:
    """The asked names ("NR-8") whose name the evidence gives only other numbers ("NR-7")."""
    numbers: dict[str, set[str]] = defaultdict(set)
    for name, number in named:
        numbers[name].add(number)
    by_name: dict[str, set[str]] = defaultdict(set)
    for name, number in asked:
        by_name[name].add(number)
    return frozenset(
        f"{name} {number}"
        for name, wanted in by_name.items()
        if numbers.get(name) and not wanted & numbers[name]
        for number in sorted(wanted)
    )
