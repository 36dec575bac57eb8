"""Query-term highlighting: character offsets for clients and an escaped `<mark>` snippet."""

from __future__ import annotations

import html
import re

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an and are as at be but by do does did for from how i in is it of on or so that the "
    "their them they this to was we what when where which who why with you your".split()
)
SNIPPET_WORDS = 48


def _stem(word: str) -> str:
    """A light suffix strip so 'alerts' finds 'alert' and 'paging' finds 'page'."""
    word = word.lower()
    for suffix in ("ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def query_terms(query: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(query) if w.lower() not in _STOP and len(w) > 1}


def _matches(stem: str, terms: set[str]) -> bool:
    """Same stem, or one a short extension of the other ('page' ~ 'pag', 'kubernet' ~ ...)."""
    return any(
        stem == t
        or (len(t) >= 4 and stem.startswith(t))
        or (len(stem) >= 3 and t.startswith(stem) and len(t) - len(stem) <= 2)
        for t in terms
    )


def highlights(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """[start, end) character offsets of the words of `text` that match a query term."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if _matches(_stem(m.group()), terms)]


def _window(bounds: list[tuple[int, int]], spans: list[tuple[int, int]], words: int) -> int:
    """First word of the `words`-word window holding the most matches, centred on them."""
    if not spans or len(bounds) <= words:
        return 0
    matched = [i for i, (lo, hi) in enumerate(bounds) if any(lo <= s < hi for s, _ in spans)]
    best, best_first = 0, 0
    for first in matched:  # windows starting at a match are enough to find the densest one
        inside = [i for i in matched if first <= i < first + words]
        if len(inside) > best:
            best, best_first = len(inside), first
    inside = [i for i in matched if best_first <= i < best_first + words]
    centre = (inside[0] + inside[-1]) // 2
    return max(0, min(len(bounds) - words, centre - words // 2))


def snippet(text: str, spans: list[tuple[int, int]], words: int = SNIPPET_WORDS) -> str:
    """The densest `words`-word window of `text`, HTML-escaped, matches wrapped in <mark>."""
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not bounds:
        return ""
    first = _window(bounds, spans, words)
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
