"""Numbers however they are written, read as digits: 六百 is 600, so an answer that writes "600元"
is supported by a source that says "六百元", 第十四届 is the same edition as 第14届, and "three days"
the same as "3 days".

    chinese_number("一百零七")          # "107"
    chinese_number("二〇二二")          # "2022" (digit by digit)
    english_number("twenty-five")      # "25"
    number_value("3.71万")              # "37100"
    number_value("1.5 million")         # "1500000"
    [m.group() for m in NUMBER.finditer("three days, 1,200 euros")]   # ["three", "1,200"]
"""

from __future__ import annotations

import re

CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_UNITS = {"十": 10, "百": 100, "千": 1000}
_GROUPS = {"万": 10_000, "亿": 100_000_000}
_EN_SMALL = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_EN_TENS = {
    w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
_EN_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_SCALES = {**_GROUPS, **_EN_SCALES}
_EN_ORDINALS = {
    **{
        w: i
        for i, w in enumerate(
            "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
            "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split(),
            1,
        )
    },
    **{
        w: 10 * i
        for i, w in enumerate(
            "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split(), 2
        )
    },
}

_EN_WORD = "|".join(sorted([*_EN_SMALL, *_EN_TENS, "hundred", *_EN_SCALES], key=len, reverse=True))
_EN_SCALE = "|".join(_EN_SCALES)
_AFTER_HUNDREDS = "(?:" + "|".join(f"(?<={w})" for w in ["hundred", *_EN_SCALES]) + ")"  # "and" only there
# "one" alone is mostly a pronoun ("one of the"): read only as the start of "one hundred" and the like
_EN_FIRST = "|".join(sorted((w for w in [*_EN_SMALL, *_EN_TENS] if w != "one"), key=len, reverse=True))
_EN_TENS_WORD = "|".join(_EN_TENS)
# "first" alone is mostly "at first", "first appeared": read only in "twenty-first" and as "1st"
_EN_ORDINAL = "|".join(sorted((w for w in _EN_ORDINALS if w != "first"), key=len, reverse=True))
# ordinals (2nd, second, twenty-first); digits (1,200; 3.71万; 1.5 million); English number words
# (twenty-five, two hundred and fifty); Chinese numerals of two or more characters (五十, 一百); one
# before a measure word (五小时)
NUMBER = re.compile(
    rf"\d+(?:st|nd|rd|th)\b|\b(?:(?:{_EN_TENS_WORD})[\s-]+(?:first|{_EN_ORDINAL})|{_EN_ORDINAL})\b"
    rf"|\d+(?:[.,]\d+)*(?:\s*[万亿]|\s+(?:{_EN_SCALE})\b)?"
    rf"|\b(?:{_EN_FIRST}|one(?=[\s-]+(?:hundred|{_EN_SCALE})\b))"
    rf"(?:(?:[\s-]+|{_AFTER_HUNDREDS}\s+and\s+)(?:{_EN_WORD}))*\b"
    rf"|[{CN_NUMERALS}]{{2,}}"
    r"|[二两三四五六七八九十](?=[个次人名位年月日天元岁届项座家种倍场号小])",
    re.IGNORECASE,
)


def chinese_number(text: str) -> str | None:
    """An integer written in digits or in Chinese numerals (十四, 九十五, 一百零七, 三万五千), as digits;
    None if `text` is not one."""
    if text.isdigit():
        return str(int(text))
    if not text or not any(c in _UNITS or c in _GROUPS for c in text):  # digit by digit: 二〇二二
        digits = [_DIGITS.get(c) for c in text]
        return "".join(map(str, digits)) if digits and None not in digits else None
    total = section = 0
    digit: int | None = None
    for c in text:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[c]
            digit = None
        elif c == "万":  # 一亿二千万: 万 scales what follows 亿, 亿 all before it
            total += (section + (digit or 0)) * _GROUPS[c]
            section, digit = 0, None
        elif c == "亿":
            total = (total + section + (digit or 0)) * _GROUPS[c]
            section, digit = 0, None
        else:
            return None
    return str(total + section + (digit or 0))


def english_number(text: str) -> str | None:
    """An integer written in English words (seven, twenty-five, two hundred and fifty, three million),
    as digits; None if `text` is not one ("two three" is two numbers, not one)."""
    total = current = 0
    last = ""  # the previous word: small (zero-nineteen), tens, hundred or scale
    for word in re.split(r"[\s-]+", text.lower().strip()):
        small, tens, scale = _EN_SMALL.get(word), _EN_TENS.get(word), _EN_SCALES.get(word)
        if word == "and" and last in ("hundred", "scale"):
            continue
        if small is not None and (last not in ("small", "tens") or (last == "tens" and 0 < small < 10)):
            current, last = current + small, "small"
        elif tens is not None and last not in ("small", "tens"):
            current, last = current + tens, "tens"
        elif word == "hundred" and last in ("small", "tens"):
            current, last = current * 100, "hundred"
        elif scale is not None and last in ("small", "tens", "hundred"):
            total, current, last = total + current * scale, 0, "scale"
        else:
            return None
    return str(total + current) if last else None


def english_ordinal(text: str) -> str | None:
    """An ordinal written in English words or digits (second, twenty-first, 19th) as its number (2, 21,
    19): "the 5th of March" is "5 March", "the second album" the "2nd"; None if `text` is not one."""
    if re.fullmatch(r"\d+(?:st|nd|rd|th)", text, re.IGNORECASE):
        return str(int(text[:-2]))
    *tens, last = re.split(r"[\s-]+", text.lower().strip())
    if last not in _EN_ORDINALS or len(tens) > 1 or (tens and tens[0] not in _EN_TENS):
        return None
    return str(_EN_ORDINALS[last] + (_EN_TENS[tens[0]] if tens else 0))


def number_value(written: str) -> str:
    """A number as digits: 1,200 -> 1200, 六百 -> 600, 3.71万 -> 37100, twelve thousand -> 12000,
    1.5 million -> 1500000, second -> 2 (as written if unreadable)."""
    n = written.replace(",", "").strip().rstrip(".")
    if read := english_ordinal(n):
        return read
    head, _, scale = n.rpartition(" ") if " " in n else (n[:-1], "", n[-1])
    scale = scale.lower()
    if scale in _SCALES and head.strip() and head.strip().replace(".", "", 1).isdigit():
        value = round(float(head) * _SCALES[scale], 4)
        return str(int(value)) if value.is_integer() else str(value)
    if n.isascii():
        return n if n.replace(".", "").isdigit() else english_number(n) or n
    return chinese_number(n.replace(" ", "")) or n
