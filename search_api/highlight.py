"""Query-term highlighting: character offsets for clients and an escaped `<mark>` snippet.

Terms are compiled once per query. Scanning a moment's text is most of the cost, so ASCII text
(nearly all) takes a faster route to the same offsets: it is matched lower-cased against a
pattern whose literal start lets the regex engine skip ahead (an ignore-case pattern that opens
with a word boundary is tried at every character). The snippet works on the moment's words,
already split, and finds a match's word by counting the spaces before it.
`tests/search_api/test_highlight.py` checks both against the plain regex definitions.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
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


@dataclass(frozen=True)
class TermPattern:
    """A query's terms, compiled: `pattern` defines a match; `lowered`, for terms of ASCII word
    characters, finds the same matches in lower-cased ASCII text, word boundaries checked
    afterwards."""

    pattern: re.Pattern[str]
    lowered: re.Pattern[str] | None


def term_pattern(terms: set[str]) -> TermPattern | None:
    """Words starting with a term's stem; terms shorter than 3 letters match whole words."""
    if not terms:
        return None
    pattern = re.compile("|".join(rf"\b{part}" for part in _alternatives(terms)), re.IGNORECASE)
    lowered = None
    if all(t.isascii() and _WORD.fullmatch(t) for t in terms):  # as `query_terms` makes them
        lowered = re.compile("|".join(_alternatives({t.lower() for t in terms})))
    return TermPattern(pattern, lowered)


def _alternatives(terms: set[str]) -> list[str]:
    long = sorted((re.escape(t) for t in terms if len(t) >= 3), key=len, reverse=True)
    short = sorted(re.escape(t) for t in terms if len(t) < 3)
    return ([rf"(?:{'|'.join(long)})\w*"] if long else []) + (
        [rf"(?:{'|'.join(short)})\b"] if short else []
    )


def highlights(text: str, terms: set[str] | TermPattern | None) -> list[tuple[int, int]]:
    """[start, end) character offsets of the words of `text` that match a query term."""
    compiled = term_pattern(terms) if isinstance(terms, set) else terms
    if compiled is None:
        return []
    if compiled.lowered is None or not text.isascii():
        return [m.span() for m in compiled.pattern.finditer(text)]
    # Without the leading \b a match may start inside a word; it then runs to the word's end
    # (terms are word characters), so dropping it hides no match that starts a word.
    return [
        m.span()
        for m in compiled.lowered.finditer(text.lower())
        if not m.start() or not _is_word(text[m.start() - 1])
    ]


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _window(matched: list[int], count: int, length: int) -> int:
    """First word of the `length`-word window (of `count` words) holding the most matched words
    (their indexes, ascending), centred on them."""
    if not matched or count <= length:
        return 0
    best, best_first = 0, matched[0]
    for i, first in enumerate(matched):
        inside = bisect.bisect_left(matched, first + length) - i
        if inside > best:
            best, best_first = inside, first
    last_match = matched[bisect.bisect_left(matched, best_first + length) - 1]
    centre = (best_first + last_match) // 2
    return max(0, min(count - length, centre - length // 2))


def snippet(words: list[str], spans: list[tuple[int, int]], length: int = SNIPPET_WORDS) -> str:
    """The densest `length`-word window of the text `" ".join(words)` (a moment's words, see
    `moments.join_words`), HTML-escaped, matches (`spans` of that text) wrapped in <mark>."""
    if not words:
        return ""
    text = " ".join(words)
    matched = sorted({text.count(" ", 0, start) for start, _ in spans})  # the words they start
    first = _window(matched, len(words), length)
    last = min(len(words), first + length)
    lo = sum(map(len, words[:first])) + first
    hi = lo + sum(map(len, words[first:last])) + last - first - 1
    out, cursor = [], lo
    for start, end in spans:
        if start < lo or end > hi:
            continue
        out += [html.escape(text[cursor:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        cursor = end
    out.append(html.escape(text[cursor:hi]))
    return ("… " if first else "") + "".join(out) + (" …" if last < len(words) else "")
