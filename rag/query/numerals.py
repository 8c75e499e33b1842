"""Numbers written in Chinese numerals, read as digits: 六百 is 600, so an answer that writes "600元"
is supported by a source that says "六百元", and 第十四届 is the same edition as 第14届.

    chinese_number("一百零七")   # "107"
    chinese_number("二〇二二")   # "2022" (digit by digit)
    number_value("3.71万")        # "37100"
"""

from __future__ import annotations

CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_UNITS = {"十": 10, "百": 100, "千": 1000}
_GROUPS = {"万": 10_000, "亿": 100_000_000}


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


def number_value(written: str) -> str:
    """A number as digits: 1,200 -> 1200, 六百 -> 600, 3.71万 -> 37100 (as written if unreadable)."""
    n = written.replace(",", "").replace(" ", "").rstrip(".")
    if n[-1] in _GROUPS and n[0].isdigit() and n[:-1].replace(".", "", 1).isdigit():
        value = round(float(n[:-1]) * _GROUPS[n[-1]], 4)
        return str(int(value)) if value.is_integer() else str(value)
    if n.isascii():
        return n
    return chinese_number(n) or n
