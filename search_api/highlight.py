"""Query-term highlighting: character offsets for clients and an escaped `<mark>` snippet.

Terms are compiled once per query. Scanning a moment's text is most of the cost, so the common
case takes a faster route to the same answer: ASCII text is matched lower-cased against a
pattern whose literal start lets the regex engine skip ahead (an ignore-case pattern that opens
with a word boundary is tried at every character), and a text of single-spaced words (every
moment's, see `moments.join_texts`) finds its words by counting spaces rather than by a regex.
`tests/search_api/test_highlight.py` checks both routes against the plain ones.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class TermPattern:
    """A query's terms, compiled: `pattern` defines a match; `lowered`, for ASCII terms, finds
    the same matches in lower-cased ASCII text, word boundaries checked afterwards."""

    pattern: re.Pattern[str]
    lowered: re.Pattern[str] | None


def term_pattern(terms: set[str]) -> TermPattern | None:
    """Words starting with a term's stem; terms shorter than 3 letters match whole words."""
    if not terms:
        return None
    pattern = re.compile("|".join(rf"\b{part}" for part in _alternatives(terms)), re.IGNORECASE)
    lowered = None
    if all(t.isascii() for t in terms):
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


def _window(matched: list[int], count: int, words: int) -> int:
    """First word of the `words`-word window (of `count` words) holding the most matched words
    (their indexes, ascending), centred on them."""
    if not matched or count <= words:
        return 0
    best, best_first = 0, matched[0]
    for i, first in enumerate(matched):
        inside = bisect.bisect_left(matched, first + words) - i
        if inside > best:
            best, best_first = inside, first
    last_match = matched[bisect.bisect_left(matched, best_first + words) - 1]
    centre = (best_first + last_match) // 2
    return max(0, min(count - words, centre - words // 2))


def snippet(text: str, spans: list[tuple[int, int]], words: int = SNIPPET_WORDS) -> str:
    """The densest `words`-word window of `text`, HTML-escaped, matches wrapped in <mark>."""
    tokens = text.split()
    if not tokens:
        return ""
    if " ".join(tokens) == text:  # single spaces: a word's index is the spaces before it
        matched = sorted({text.count(" ", 0, start) for start, _ in spans})

        def start_of(word: int) -> int:
            return sum(map(len, tokens[:word])) + word

    else:
        starts = [m.start() for m in _TOKEN.finditer(text)]
        matched = sorted({bisect.bisect_right(starts, start) - 1 for start, _ in spans})

        def start_of(word: int) -> int:
            return starts[word]

    first = _window(matched, len(tokens), words)
    last = min(len(tokens), first + words)
    lo, hi = start_of(first), start_of(last - 1) + len(tokens[last - 1])
    out, cursor = [], lo
    for start, end in spans:
        if start < lo or end > hi:
            continue
        out += [html.escape(text[cursor:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        cursor = end
    out.append(html.escape(text[cursor:hi]))
    return ("… " if first else "") + "".join(out) + (" …" if last < len(tokens) else "")
