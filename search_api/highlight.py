"""Query-term highlighting: character offsets for clients and an escaped `<mark>` snippet.

One compiled regex per query does the matching, so highlighting ten moments costs well under a
millisecond.
"""

from __future__ import annotations

import bisect
import html
import re

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"\S+")
_STOP = frozenset(
    "a an and are as at be but by do does did for from how i in is it of on or so that the "
    "their them they this to was we what when where which who why with you your".split()
)
SNIPPET_WORDS = 48


def _prefix(word: str) -> str:
    """A light stem: 'alerts' -> 'alert', 'paging' and 'page' -> 'pag'."""
    word = word.lower()
    for suffix in ("ing", "es", "ed", "s", "e"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def query_terms(query: str) -> set[str]:
    return {_prefix(w) for w in _WORD.findall(query) if w.lower() not in _STOP and len(w) > 1}


def term_pattern(terms: set[str]) -> re.Pattern[str] | None:
    """Words starting with a term's stem; terms shorter than 3 letters match whole words."""
    if not terms:
        return None
    long = sorted((re.escape(t) for t in terms if len(t) >= 3), key=len, reverse=True)
    short = sorted(re.escape(t) for t in terms if len(t) < 3)
    parts = ([rf"\b(?:{'|'.join(long)})\w*"] if long else []) + (
        [rf"\b(?:{'|'.join(short)})\b"] if short else []
    )
    return re.compile("|".join(parts), re.IGNORECASE)


def highlights(text: str, terms: set[str] | re.Pattern[str] | None) -> list[tuple[int, int]]:
    """[start, end) character offsets of the words of `text` that match a query term."""
    pattern = term_pattern(terms) if isinstance(terms, set) else terms
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(text)]


def _window(starts: list[int], spans: list[tuple[int, int]], words: int) -> int:
    """First word of the `words`-word window holding the most matches, centred on them."""
    if not spans or len(starts) <= words:
        return 0
    matched = sorted({bisect.bisect_right(starts, s) - 1 for s, _ in spans})
    best, best_first = 0, matched[0]
    for i, first in enumerate(matched):
        count = bisect.bisect_left(matched, first + words) - i
        if count > best:
            best, best_first = count, first
    last_match = matched[bisect.bisect_left(matched, best_first + words) - 1]
    centre = (best_first + last_match) // 2
    return max(0, min(len(starts) - words, centre - words // 2))


def snippet(text: str, spans: list[tuple[int, int]], words: int = SNIPPET_WORDS) -> str:
    """The densest `words`-word window of `text`, HTML-escaped, matches wrapped in <mark>."""
    bounds = [m.span() for m in _TOKEN.finditer(text)]
    if not bounds:
        return ""
    first = _window([b[0] for b in bounds], spans, words)
    last = min(len(bounds), first + words)
    lo, hi = bounds[first][0], bounds[last - 1][1]
    out, cursor = [], lo
    for start, end in spans:
        if start < lo or end > hi:
            continue
        out += [html.escape(text[cursor:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        cursor = end
    out.append(html.escape(text[cursor:hi]))
    return ("… " if first else "") + "".join(out) + (" …" if last < len(bounds) else "")
