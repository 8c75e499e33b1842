"""Numbered names a question pins down: NR-8, VX4, K320, version 5.0, Velmora 11, Lumo 14, Chinese
ordinals (第七届, 第95届, 首届) and quarters (Q1, 第一季度). Evidence about the NR-7 does not answer a
question about the NR-8, though every other word of it matches; nor does a report on the 第六届
answer one about the 第七届.

    numbered_names("How long does the NR-8 run?")     # {("nr", "8")}
    numbered_names("What changed in version 5.0?")    # {("version", "5.0")}
    numbered_names("第十四届星河杯在哪举行")          # {("届", "14")}: the measure word names the series
    numbered_names("鸿澜汽车2022年一季度营收")        # {("quarter", "1")}, as for Q1 or "first quarter"
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Set

from rag.query.numerals import CN_NUMERALS, chinese_number
from rag_core.language import words

_NUMBER = r"(\d+(?:\.\d+)*)(?![A-Za-z0-9_]|\.\d)"
_GLUED = re.compile(r"(?<![A-Za-z0-9_.\-])([A-Za-z]{1,12})-?" + _NUMBER)  # NR-8, VX4, K320, HM5712
_SPACED = re.compile(
    r"(?<![A-Za-z0-9_])([A-Z][A-Za-z]{2,}|[a-z]+[A-Z][A-Za-z]*|version|model|release|chapter|section)\s+"
    + _NUMBER
)
# 第七届 / 第95届 / 首届: the ordinal and its measure word (季度 before 季). Not 次 (第一次, 首次): prose
# says "for the first time" everywhere, so it names no series
ORDINAL = re.compile(
    rf"(?:第\s*(\d+|[{CN_NUMERALS}]+)\s*(届|季|期|代|轮|集|版|批|任|章|节|条|号)"
    r"|首\s*(届))(?!度)"
)
# a quarter however written: Q3, 第三季度, 三季度, the third quarter
QUARTER = re.compile(
    r"(?<![A-Za-z0-9])Q([1-4])(?![A-Za-z0-9])|第?\s*([1-4一二三四])\s*季度"
    r"|\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter",
    re.IGNORECASE,
)
_QUARTERS = dict(zip("一二三四", "1234", strict=True)) | dict(
    zip(("first", "second", "third", "fourth"), "1234", strict=True)
)
# 本届 / this edition: the text speaks of an edition it does not number, which may be the one asked
THIS_EDITION = re.compile(r"(?:本|这|此|该|今)\s*(届|季|期|代|轮|集|版|批|任)")
ANY = "*"
# stop words (what, which, who ... how among them), month names, and FY (FY22 is a year: `years.years_in`)
# and Q (Q3 is a quarter)
_NOT_NAMES = words("stopwords", ("en",)) | words("months", ("en",)) | {"fy", "q"}


def numbered_names(text: str) -> frozenset[tuple[str, str]]:
    """(name, number) pairs, the name lower-cased; a Chinese ordinal's name is its measure word and its
    number is written in digits (第十四届 and 第14届 are ("届", "14"), 首届 is ("届", "1"), 本届 is
    ("届", ANY))."""
    found = {(m.group(1).lower(), m.group(2)) for p in (_GLUED, _SPACED) for m in p.finditer(text)}
    names = {(name, number) for name, number in found if name not in _NOT_NAMES}
    names.update(o for m in ORDINAL.finditer(text) if (o := ordinal(m)) is not None)
    names.update((m.group(1), ANY) for m in THIS_EDITION.finditer(text))
    for m in QUARTER.finditer(text):
        written = next(g for g in m.groups() if g).lower()
        names.add(("quarter", _QUARTERS.get(written, written[0])))
    return frozenset(names)


def ordinal(m: re.Match[str]) -> tuple[str, str] | None:
    """An `ORDINAL` match as (measure word, number in digits); None if its numerals do not read."""
    number = chinese_number(m.group(1)) if m.group(1) else "1"
    return None if number is None else (m.group(2) or m.group(3), number)


def other_numbers(asked: Set[tuple[str, str]], named: Set[tuple[str, str]]) -> frozenset[str]:
    """The asked names ("NR-8") whose name the evidence gives only other numbers ("NR-7"). A Chinese
    ordinal also counts as named by the same number in a Latin-script name (第12届星河杯 is Xinghe
    Cup 12), and an unnumbered edition (本届) may be any."""
    numbers: dict[str, set[str]] = defaultdict(set)
    for name, number in named:
        numbers[name].add(number)
    latin = {n for name, ns in numbers.items() if name.isascii() for n in ns}
    by_name: dict[str, set[str]] = defaultdict(set)
    for name, number in asked:
        by_name[name].add(number)
    return frozenset(
        f"{name} {number}"
        for name, wanted in by_name.items()
        if numbers.get(name)
        and ANY not in numbers[name]
        and not wanted & (numbers[name] if name.isascii() else numbers[name] | latin)
        for number in sorted(wanted)
    )
