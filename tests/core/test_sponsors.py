"""Sponsor/promo read detection over plain segments: repetition across episodes, phrasing."""

from __future__ import annotations

import itertools
import random

from podsearch.sponsors import StoredSegment, changed_flags, flag_ads

READ = (
    "this episode is brought to you by our friends at acme cloud the fastest way to ship "
    "your containers worldwide with zero config deploys head to acme.dev slash show and get "
    "a month free on us"
)
FILLER = [
    "we talked about the history of unix pipes and why small tools compose",
    "the database migration took three weeks because nobody trusted the backups",
    "my favourite bug this year was a timezone offset in the billing service",
    "kubernetes is great until you need to explain it to your finance team",
    "we rewrote the parser in rust and the test suite got twice as fast",
]


def talk(seed: int, words: int = 60) -> str:
    """Words no other episode says in the same order."""
    rng = random.Random(seed)
    vocabulary = " ".join(FILLER).split()
    return " ".join(rng.choice(vocabulary) for _ in range(words))


def show(episodes: int, with_read: bool = True) -> list[StoredSegment]:
    segments = []
    for n in range(episodes):
        segments.append(StoredSegment(f"e{n}-0", f"e{n}", talk(n)))
        if with_read:
            segments.append(StoredSegment(f"e{n}-1", f"e{n}", READ))
        segments.append(StoredSegment(f"e{n}-2", f"e{n}", talk(100 + n)))
    return segments


def test_a_read_repeated_in_three_episodes_is_flagged_and_talk_is_not() -> None:
    flags = flag_ads(show(3))
    assert {i for i, ad in flags.items() if ad} == {"e0-1", "e1-1", "e2-1"}


def test_two_episodes_are_not_enough_to_call_a_read_boilerplate() -> None:
    assert not any(flag_ads(show(2)).values())


def test_a_read_said_with_small_edits_is_still_flagged() -> None:
    segments = show(3)
    edited = READ.replace("fastest", "quickest").replace("worldwide", "everywhere")
    segments.append(StoredSegment("e3-1", "e3", edited))
    assert flag_ads(segments)["e3-1"]


def test_a_segment_half_read_half_talk_is_flagged_only_with_sponsor_phrasing() -> None:
    segments = show(3)
    head = " ".join(READ.split()[:12])  # "...brought to you by our friends at acme..."
    segments.append(StoredSegment("mixed", "e9", f"{head} {talk(9, 40)}"))
    plain = "welcome back everyone to the show it is great to have you"
    segments += [StoredSegment(f"i{n}", f"e{n}", f"{plain} {talk(50 + n, 40)}") for n in range(3)]
    flags = flag_ads(segments)
    assert flags["mixed"]
    assert not any(flags[f"i{n}"] for n in range(3))


def test_flags_do_not_depend_on_the_order_segments_come_in() -> None:
    segments = show(4)
    expected = flag_ads(segments)
    for order in itertools.islice(itertools.permutations(segments), 0, 200, 37):
        assert flag_ads(order) == expected


def test_only_flags_that_differ_from_the_stored_ones_are_written() -> None:
    segments = show(3)
    stored = [StoredSegment(s.id, s.episode_id, s.text, ad=s.id == "e0-1") for s in segments]
    assert changed_flags(stored) == {"e1-1": True, "e2-1": True}
    settled = [StoredSegment(s.id, s.episode_id, s.text, ad=s.id.endswith("-1")) for s in segments]
    assert changed_flags(settled) == {}
