"""Highlighting query terms in moments."""

from __future__ import annotations

import bisect
import html
import itertools
import json
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.full_payload import FullPayloadReader
from search_api.highlight import SNIPPET_WORDS, highlights, query_terms, snippet, term_pattern
from search_api.moments import join_texts
from tests.support import REPO


def test_query_terms_drop_stop_words_and_light_suffixes() -> None:
    assert query_terms("How do they handle on-call burnout?") == {"handl", "call", "burnout"}
    assert query_terms("paging alerts page") == {"pag", "alert"}


def test_highlights_are_offsets_of_matching_words() -> None:
    text = "Alert fatigue: too many alerts, and paging at 3am."
    spans = highlights(text, query_terms("alerts page"))
    assert [text[a:b] for a, b in spans] == ["Alert", "alerts", "paging"]


def test_snippets_escape_html_and_mark_only_matches() -> None:
    text = "the <script>alert(1)</script> & the alert storm"
    marked = snippet(text.split(), highlights(text, query_terms("alert")))
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert marked.count("<mark>") == 2 and "&amp;" in marked


def test_snippets_show_the_densest_window_of_a_long_text() -> None:
    text = " ".join(["filler"] * 100 + ["compost", "worms", "compost"] + ["filler"] * 100)
    marked = snippet(text.split(), highlights(text, query_terms("compost")), length=20)
    assert marked.startswith("… ") and marked.endswith(" …")
    assert marked.count("<mark>compost</mark>") == 2


def test_a_text_without_matches_starts_at_the_beginning() -> None:
    assert snippet("one two three".split(), []) == "one two three"


def test_short_terms_match_whole_words_only() -> None:
    text = "AI and aim: the ai team"
    assert [text[a:b] for a, b in highlights(text, query_terms("AI"))] == ["AI", "ai"]


# The faster routes (lower-cased ASCII; a snippet from split words, found by counting spaces) must
# answer exactly what the plain definitions below answer: one regex with a word boundary and
# ignore-case, and words found by `\S+` in the text. These are the functions as they were.


def reference_highlights(text: str, terms: set[str]) -> list[tuple[int, int]]:
    long = sorted((re.escape(t) for t in terms if len(t) >= 3), key=len, reverse=True)
    short = sorted(re.escape(t) for t in terms if len(t) < 3)
    parts = ([rf"\b(?:{'|'.join(long)})\w*"] if long else []) + (
        [rf"\b(?:{'|'.join(short)})\b"] if short else []
    )
    if not parts:
        return []
    return [m.span() for m in re.finditer("|".join(parts), text, re.IGNORECASE)]


def reference_snippet(text: str, spans: list[tuple[int, int]], words: int = SNIPPET_WORDS) -> str:
    bounds = [m.span() for m in re.finditer(r"\S+", text)]
    if not bounds:
        return ""
    starts = [b[0] for b in bounds]
    first = 0
    if spans and len(starts) > words:
        matched = sorted({bisect.bisect_right(starts, s) - 1 for s, _ in spans})
        best, best_first = 0, matched[0]
        for i, start in enumerate(matched):
            count = bisect.bisect_left(matched, start + words) - i
            if count > best:
                best, best_first = count, start
        last_match = matched[bisect.bisect_left(matched, best_first + words) - 1]
        centre = (best_first + last_match) // 2
        first = max(0, min(len(starts) - words, centre - words // 2))
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


def assert_like_reference(text: str, terms: set[str], length: int = SNIPPET_WORDS) -> None:
    spans = highlights(text, term_pattern(terms))
    assert spans == reference_highlights(text, terms)
    if " ".join(text.split()) == text:  # single-spaced, as every moment's text
        assert snippet(text.split(), spans, length) == reference_snippet(text, spans, length)


# Letters whose ignore-case matches differ from lower() (Kelvin sign, long s, dotted and dotless
# i, final sigma), word characters and separators of several kinds.
ALPHABET = "abcikKsS_9 \t\n\u00a0\u212a\u017f\u0130\u0131\u03c3\u03c2\u03a3-.'é<&"


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(st.text(ALPHABET, min_size=1, max_size=8), max_size=60),
    separators=st.lists(st.sampled_from([" ", " ", " ", "  ", "\n", "\t "]), max_size=60),
    terms=st.sets(st.text("abcikKsS_9é\u212a\u017f\u03c3-", min_size=1, max_size=4), max_size=3),
    window=st.integers(1, 12),
)
def test_the_fast_routes_answer_like_the_definitions(
    words: list[str], separators: list[str], terms: set[str], window: int
) -> None:
    text = "".join(w + s for w, s in zip(words, separators + [" "] * len(words), strict=False))
    assert_like_reference(text, terms, window)
    assert_like_reference(" ".join(text.split()), terms, window)  # single-spaced, as moments
    ascii_text = text.encode("ascii", "ignore").decode()
    ascii_terms = {t.encode("ascii", "ignore").decode() or "a" for t in terms}
    assert_like_reference(ascii_text, ascii_terms, window)
    assert_like_reference(" ".join(ascii_text.split()), ascii_terms, window)


def test_the_fast_routes_answer_like_the_definitions_on_the_sample_corpus(
    index_root: Path,
) -> None:
    """Every segment, and every pair of neighbours joined as a moment, for every sample
    question."""
    stored = sorted(
        FullPayloadReader(index_root).stored.values(), key=lambda p: (p.episode_id, p.segment_index)
    )
    texts = [p.text for p in stored]
    texts += [join_texts([a.text, b.text]) for a, b in itertools.pairwise(stored)]
    questions = [
        json.loads(line)["question"]
        for line in (REPO / "tests" / "e2e" / "sample_questions.jsonl").read_text().splitlines()
    ]
    for question in questions:
        for text in texts:
            assert_like_reference(text, query_terms(question))
