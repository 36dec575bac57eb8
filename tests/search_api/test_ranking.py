"""Speakers named in a query lift the segments where they talk (plain data, no store)."""

from __future__ import annotations

from podsearch.models import SegmentHit
from search_api.ranking import boost_named_speakers, named_speakers
from tests.search_api.test_moments import hit as plain_hit


def hit(id_: str, score: float, *speakers: str) -> SegmentHit:
    return plain_hit("ep", 0, score)._replace(id=id_, speakers=speakers)


HITS = [
    hit("a", 0.9, "Professor C", "Grad B"),
    hit("b", 0.8, "PhD A", "Grad B"),
    hit("c", 0.7, "Project Manager"),
    hit("d", 0.65, "PhD C", "Marketing"),
]


def test_a_speaker_is_named_by_a_whole_word_of_the_name_or_a_lone_capital_letter() -> None:
    assert named_speakers("What did the project manager think of it?", HITS) == {"Project Manager"}
    assert named_speakers("What did the Professor say about clustering", HITS) == {"Professor C"}
    assert named_speakers("What did B think about the budget?", HITS) == {"Grad B"}


def test_only_the_best_matching_speakers_count() -> None:
    assert named_speakers("What did PhD A think?", HITS) == {"PhD A"}
    assert named_speakers("What did C think?", HITS) == {"Professor C", "PhD C"}


def test_pronouns_articles_and_lowercase_letters_name_nobody() -> None:
    assert named_speakers("A database I said I trust", HITS) == set()
    assert named_speakers("is plan b or plan c better, they asked", HITS) == set()
    assert named_speakers("how do they handle on-call burnout", HITS) == set()


def test_a_name_counts_only_when_the_query_asks_what_someone_said() -> None:
    assert named_speakers("What salary did Marketing get?", HITS) == set()
    assert named_speakers("Marketing's view on the price", HITS) == {"Marketing"}


def test_segments_of_a_named_speaker_are_lifted_and_the_rest_keep_their_order() -> None:
    assert [
        h.id for h in boost_named_speakers("what did marketing say about buttons", HITS)
    ] == list("dabc")
    assert [h.id for h in boost_named_speakers("buttons", HITS)] == list("abcd")


def test_the_forms_meeting_questions_use_name_a_speaker() -> None:
    hits = [*HITS, hit("e", 0.6, "Industrial Designer"), hit("f", 0.6, "User Interface")]
    assert named_speakers("Summarize the Project Manager's perspective on it", hits) == {
        "Project Manager"
    }
    assert named_speakers("What did the user interface designer recommend?", hits) == {
        "User Interface"
    }
    assert named_speakers("How did PhD A approach the back-end?", hits) == {"PhD A"}
    assert named_speakers("What was Marketing's comment on it?", hits) == {"Marketing"}
    assert named_speakers("What did the Industrial Design answer?", hits) == {"Industrial Designer"}


def test_a_part_said_twice_in_a_name_counts_once() -> None:
    trudeau = "Right Hon. Justin Trudeau (Prime Minister)"
    freeland = "Hon. Chrystia Freeland (Deputy Prime Minister and Minister of Finance)"
    hits = [hit("a", 0.9, trudeau), hit("b", 0.8, freeland), hit("c", 0.7, "Bains")]
    assert trudeau in named_speakers("What did the Prime Minister say about students?", hits)
    assert named_speakers("What did Vaughan Gething think of it?", hits) == set()
