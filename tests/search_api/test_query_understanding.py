"""Reading a query before it is embedded: topic, quoted phrases (plain data, no store)."""

from __future__ import annotations

import pytest

from search_api.query_understanding import quoted_phrases, read_query, topic
from search_api.schemas import SearchMode


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Summarize the discussion about setting up the microphones", "setting up the microphones"),
        ("Summarize Kirsty Williams' opinion on university mergers.", "university mergers"),
        ("Summarize the decision of the discussion about function design.", "function design"),
        ("What did C think about the budget?", "the budget"),
        (
            "What did the PM think of the profit when discussing finance and why?",
            "the profit finance",
        ),
        ("Why did Marketing disagree with the PM when talking about screens?", "the PM screens"),
        ("How did Kirsty Williams respond to university mergers?", "university mergers"),
        ("What was the debate over long-term care?", "long-term care"),
        ("What’s the current status of recordings?", "recordings"),
    ],
)
def test_a_templated_question_keeps_its_topic(query: str, expected: str) -> None:
    assert topic(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "why can FreeBSD ship ZFS built in when Linux can't",  # a question, but no template
        "what do you do when your labelers disagree with each other?",
        "how does honeycomb turn a plain english question into a query?",
        "freebsd jails plex",
        "What would happen after the demo?",
        "What did the professor think about it?",  # nothing but stop words would be left
        "",
    ],
)
def test_other_queries_are_their_own_topic(query: str) -> None:
    assert topic(query) == query
    assert read_query(query).topic is None


def test_only_a_hybrid_search_embeds_the_topic_too() -> None:
    reading = read_query("What did the group discuss about speech recognition?")
    assert reading.topic == "speech recognition"
    assert reading.dense_texts(SearchMode.hybrid) == [reading.text, "speech recognition"]
    assert reading.dense_texts(SearchMode.semantic) == [reading.text]
    assert read_query("speech recognition").dense_texts(SearchMode.hybrid) == ["speech recognition"]


@pytest.mark.parametrize(
    ("query", "phrases"),
    [
        ('they say "on-call  rotation" and “burn out”?', ("on-call rotation", "burn out")),
        ('"pager" and "pager" again', ("pager",)),  # each once
        ('an unclosed "quote', ()),
        ('empty "" or "  ?  " quotes', ()),  # no word inside
        ('"a" "b', ("a",)),  # quotes pair up from the left
        ("no quotes at all", ()),
    ],
)
def test_quoted_phrases_are_read_in_pairs_of_quotes(query: str, phrases: tuple[str, ...]) -> None:
    assert quoted_phrases(query) == phrases


@pytest.mark.parametrize(
    ("query", "weight"),
    [("kubernetes", 3.0), ("the pager?", 3.0), ("pager duty", 1.0), ("what is it", 1.0)],
)
def test_a_one_word_query_is_keyword_first(query: str, weight: float) -> None:
    assert read_query(query).keyword_weight == weight
