"""Characters a reader cannot see: what no cell or descriptor text may hold.

Control characters (NUL, tab, line breaks), format characters (zero-width spaces, direction
marks, tag characters, a stray byte-order mark), private-use and unassigned code points, line
and paragraph separators, and the few letters and marks that draw nothing (variation
selectors, Hangul fillers, the blank Braille pattern). Visible spaces, such as the
ideographic space, are allowed.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["describe", "find_hidden", "shorten"]

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
# Printable by Unicode's categories, yet drawn as nothing.
_BLANK_GLYPHS = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)


def find_hidden(text: str) -> tuple[int, str] | None:
    """The position and character of the first hidden character in ``text``, or None.

    >>> find_hidden("365.5亿元"), find_hidden("365\\u200b.5")
    (None, (3, '\\u200b'))
    """
    # The common case, decided in C; isascii() is a flag lookup, and no blank glyph is ASCII.
    if text.isprintable() and (text.isascii() or not _BLANK_GLYPHS.search(text)):
        return None
    for position, char in enumerate(text):
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES or _BLANK_GLYPHS.match(char):
            return position, char
    return None


def describe(char: str) -> str:
    """A character by code point and name: ``the character U+FF13 (FULLWIDTH DIGIT THREE)``."""
    name = unicodedata.name(char, "")
    kind = "the control character" if unicodedata.category(char) == "Cc" else "the character"
    return f"{kind} U+{ord(char):04X}" + (f" ({name})" if name else "")


def shorten(text: str, limit: int = 200) -> str:
    """``text``, or its first ``limit`` characters and its length, for an error message."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
