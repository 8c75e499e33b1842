"""The years a question is about. "2022年星河杯帆船赛冠军" asks about 2022: evidence that names only other
years reports another time's event. A question that asks for a time ("哪一年", "when") is not bound
to the years it names, because a year is then the answer. A decade ("the 1950s", "1950年代") stands
for each of its years.

    asked_years("2022年星河杯帆船赛冠军")   # {"2022"}
    asked_years("When did it open in 2022?")  # frozenset(): it asks for a time
    about_other_years({"195"}, years_in("founded in 1958"))  # False: 1958 is in the 1950s
"""

from __future__ import annotations

import re
from collections.abc import Set

from rag.query.numerals import chinese_number

YEAR = re.compile(  # not a count or a measure: 2000名员工, 1800 W, 1500 units
    r"(?<![\d.,])(1[5-9]\d\d|20\d\d)(?![\d.,]\d|\d)(?!\s*(?:[%个名位人元件台辆次万亿千百米克吨度]"
    r"|(?:percent|km|kg|mm|cm|[kmg]b|[mg]hz|k?w|rpm|units?|people|employees|words|pages|dollars|euros|yuan"
    r"|usd|rmb|hours|minutes|seconds|meters|metres|feet|miles|calories|mg|ml)\b))",
    re.IGNORECASE,
)
CHINESE_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})年")
FISCAL_YEAR = re.compile(r"(?<![A-Za-z0-9])FY\s?'?(\d\d(?:\d\d)?)(?!\d)", re.IGNORECASE)  # FY22, FY2022
DECADE = re.compile(r"(?<!\d)(1[5-9]\d|20\d)0(?:s|'s|\s*年代)")
ASKS_TIME = re.compile(
    r"\bwhen\b|\b(?:what|which|in what)\s+(?:year|years|date|day|month|century|decade)\b"
    r"|什么时候|何时|哪年|哪一年|几月|几号|哪天|哪一天|日期|时间|年份",
    re.IGNORECASE,
)


def asked_years(question: str) -> frozenset[str]:
    """The years the question names (a decade as its first three digits), none if it asks for a time."""
    if ASKS_TIME.search(question):
        return frozenset()
    decades = frozenset(DECADE.findall(question))
    return decades | {y for y in years_in(question) if y[:3] not in decades}


def years_in(text: str, start: int = 0, end: int | None = None) -> frozenset[str]:
    """The years named in `text[start:end]`, in digits, in Chinese numerals (二〇二二年) or as a fiscal
    year (FY22)."""
    end = len(text) if end is None else end
    written = [chinese_number(y) or "" for y in CHINESE_YEAR.findall(text, start, end)]
    written += [y if len(y) == 4 else "20" + y for y in FISCAL_YEAR.findall(text, start, end)]
    return frozenset(YEAR.findall(text, start, end)) | {y for y in written if YEAR.fullmatch(y)}


def about_other_years(asked: Set[str], named: Set[str]) -> bool:
    """Whether a text naming the years `named` is about other years than `asked` (it names some
    year, and none of the asked ones)."""
    return bool(asked and named) and not any(year.startswith(a) for a in asked for year in named)
