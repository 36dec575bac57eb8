"""Highlighting query terms in moments."""

from __future__ import annotations

from search_api.highlight import highlights, query_terms, snippet


def test_query_terms_drop_stop_words_and_light_suffixes() -> None:
    assert query_terms("How do they handle on-call burnout?") == {"handl", "call", "burnout"}
    assert query_terms("paging alerts page") == {"pag", "alert"}


def test_highlights_are_offsets_of_matching_words() -> None:
    text = "Alert fatigue: too many alerts, and paging at 3am."
    spans = highlights(text, query_terms("alerts page"))
    assert [text[a:b] for a, b in spans] == ["Alert", "alerts", "paging"]


def test_snippets_escape_html_and_mark_only_matches() -> None:
    text = "the <script>alert(1)</script> & the alert storm"
    marked = snippet(text, highlights(text, query_terms("alert")))
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert marked.count("<mark>") == 2 and "&amp;" in marked


def test_snippets_show_the_densest_window_of_a_long_text() -> None:
    text = " ".join(["filler"] * 100 + ["compost", "worms", "compost"] + ["filler"] * 100)
    marked = snippet(text, highlights(text, query_terms("compost")), words=20)
    assert marked.startswith("… ") and marked.endswith(" …")
    assert marked.count("<mark>compost</mark>") == 2


def test_a_text_without_matches_starts_at_the_beginning() -> None:
    assert snippet("one two three", []) == "one two three"


def test_short_terms_match_whole_words_only() -> None:
    text = "AI and aim: the ai team"
    assert [text[a:b] for a, b in highlights(text, query_terms("AI"))] == ["AI", "ai"]
