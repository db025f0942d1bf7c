"""Read a figure as the report prints it: 近40个 is 40 个, hedged "nearly"; 第三 is rank 3.

The loader uses this to check that ``value``, ``unit`` and ``qualifier`` say what ``printed``
says, and the tests use it to read the report itself.
"""

from __future__ import annotations

import re

__all__ = ["HEDGES", "chinese_number", "chinese_numeral", "parse_printed", "reprint"]

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_DIGITS |= {"八": 8, "九": 9}
_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000}
_PRINTED = re.compile(
    r"(?P<before>近|超|突破)?(?P<number>[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百千]+)"
    r"(?P<after>余)?(?P<unit>[^0-9]*)"
)
_RANK = re.compile(r"第(?P<number>[一二三四五六七八九十]+)")
HEDGES = {None: "exact", "近": "nearly", "超": "more_than", "突破": "more_than", "余": "more_than"}
"""The report's hedge words and the qualifier each one means."""


def chinese_number(text: str) -> int:
    """Value of a Chinese numeral below 10000: 三 → 3, 十六 → 16, 千 → 1000.

    >>> [chinese_number(n) for n in ("三", "十六", "一百零八", "千")]
    [3, 16, 108, 1000]
    """
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _MULTIPLIERS:
            total += (1 if digit is None else digit) * _MULTIPLIERS[char]
            digit = None
        else:
            raise ValueError(f"{char!r} in {text!r} is not a Chinese numeral")
    total += digit or 0
    # The sum above reads 三三 as 3 and 十十 as 20; only a numeral written the standard way
    # (leading 一 and 两 for 二 allowed) reads back to itself.
    if text == "零" or (0 < total < 10000 and _standard(text) == _standard(chinese_numeral(total))):
        return total
    raise ValueError(f"{text!r} is not a well-formed Chinese numeral below 10000")


def _standard(numeral: str) -> str:
    numeral = numeral.replace("两", "二")
    return f"一{numeral}" if numeral[:1] in _MULTIPLIERS else numeral


def chinese_numeral(number: int) -> str:
    """The Chinese numeral for 1 to 9999, as an ordinal reads it: 3 → 三, 16 → 十六.

    >>> [chinese_numeral(n) for n in (3, 10, 16, 108, 1000)]
    ['三', '十', '十六', '一百零八', '一千']
    """
    if not 0 < number < 10000:
        raise ValueError(f"{number} is outside 1-9999")
    names = "零一二三四五六七八九"
    parts: list[str] = []
    pending_zero = False
    for value, word in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // value % 10
        if digit == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append("零")
            pending_zero = False
        parts.append(names[digit] + word)
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


def parse_printed(printed: str) -> tuple[float, str, str]:
    """Read (value, unit, qualifier) from a figure as printed.

    >>> parse_printed("近40个")
    (40.0, '个', 'nearly')
    >>> parse_printed("突破千万人次")
    (1000.0, '万人次', 'more_than')
    >>> parse_printed("第三")
    (3.0, '位', 'exact')
    """
    if rank := _RANK.fullmatch(printed):
        return float(chinese_number(rank["number"])), "位", "exact"
    match = _PRINTED.fullmatch(printed)
    if not match:
        raise ValueError(f"cannot read a figure from {printed!r}")
    if match["before"] and match["after"]:
        raise ValueError(f"{printed!r} carries two hedges")
    number = match["number"]
    value = float(number) if number[0].isdigit() else float(chinese_number(number))
    return value, match["unit"], HEDGES[match["before"] or match["after"]]


def reprint(printed: str, value: str) -> str:
    """``printed`` with its number replaced by ``value``, hedge and unit kept.

    A rank stays a Chinese ordinal; any other number is written in Arabic digits.

    >>> reprint("近40个", "41"), reprint("突破千万人次", "1001"), reprint("第三", "4")
    ('近41个', '突破1001万人次', '第四')
    """
    if _RANK.fullmatch(printed):
        return f"第{chinese_numeral(int(value))}"
    match = _PRINTED.fullmatch(printed)
    if not match:
        raise ValueError(f"cannot read a figure from {printed!r}")
    return printed[: match.start("number")] + value + printed[match.end("number") :]
