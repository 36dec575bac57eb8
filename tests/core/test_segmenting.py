"""segment_episode: overlapping word windows that lose no word and keep time and speakers."""

from __future__ import annotations

import random
import time
from itertools import pairwise
from pathlib import Path

import pytest

from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import Episode, Segment, Utterance
from podsearch.segmenting import cut_episode, keyword_text, segment_episode, tail_slack
from podsearch.transcripts import parse_transcript

EPISODE = Episode(episode_id="ep", podcast="Show", title="Ep", transcript=Path("ep.vtt"))


def words(n: int, stop_every: int = 0) -> list[str]:
    """Numbered words, so a word's position can be read back from a segment's text."""
    return [
        f"w{i}." if stop_every and i % stop_every == stop_every - 1 else f"w{i}" for i in range(n)
    ]


def position(word: str) -> int:
    return int(word.removeprefix("w").removesuffix("."))


def random_transcript(rng: random.Random) -> list[Utterance]:
    """Utterances in start order that may overlap, be empty, or lack a speaker."""
    utterances, clock, count = [], rng.uniform(0, 3), 0
    for _ in range(rng.randint(0, 30)):
        n = rng.choice([0, 1, 2, 5, 12, 40])
        text = " ".join(words(count + n, stop_every=rng.choice([0, 3, 7, 15]))[count:])
        duration = rng.choice([0.0, 0.5, rng.uniform(0, 20)])
        speaker = rng.choice(["Ann", "Bob", "Cy", None])
        utterances.append(Utterance(clock, clock + duration, text, speaker))
        clock, count = clock + rng.choice([0.0, rng.uniform(0, 5)]), count + n
    return utterances


def random_config(rng: random.Random) -> ChunkerConfig:
    window = rng.choice([1, 2, 5, 10, 17, 40, 120])
    return ChunkerConfig(window_words=window, overlap_words=rng.randint(0, window - 1))


def case(seed: int) -> tuple[list[Utterance], ChunkerConfig]:
    rng = random.Random(seed)
    return random_transcript(rng), random_config(rng)


SEEDS = range(200)


def spans(segments: list[Segment]) -> list[list[int]]:
    return [[position(w) for w in s.text.split()] for s in segments]


@pytest.mark.parametrize("seed", SEEDS)
def test_segments_cover_every_word_in_order_with_the_configured_overlap(seed: int) -> None:
    utterances, config = case(seed)
    segments = segment_episode(EPISODE, utterances, config)
    every = [position(w) for u in utterances for w in u.text.split()]
    if not every:
        assert segments == []
        return
    positions = spans(segments)
    assert all(p == list(range(p[0], p[-1] + 1)) for p in positions)
    assert positions[0][0] == 0 and positions[-1][-1] == len(every) - 1
    for before, after in pairwise(positions):
        assert after[0] == before[-1] + 1 - config.overlap_words
        assert after[0] > before[0]
    assert all(len(p) <= config.window_words + tail_slack(config.window_words) for p in positions)
    if len(positions) > 1:
        assert len(positions[-1]) > config.overlap_words


@pytest.mark.parametrize("seed", SEEDS)
def test_segment_times_and_speakers_follow_the_utterances(seed: int) -> None:
    utterances, config = case(seed)
    segments = segment_episode(EPISODE, utterances, config)
    speaker_of = {w: u.speaker for u in utterances for w in u.text.split()}
    assert [s.index for s in segments] == list(range(len(segments)))
    assert all(s.episode is EPISODE for s in segments)
    assert all(s.start <= s.end for s in segments)
    assert all(a.start <= b.start for a, b in pairwise(segments))
    for segment in segments:
        said = [speaker_of[w] for w in segment.text.split()]
        assert segment.speakers == tuple(dict.fromkeys(s for s in said if s))


def test_word_times_are_interpolated_inside_their_utterance() -> None:
    utterances = [Utterance(10.0, 20.0, "a b c d e", "Ann"), Utterance(20.0, 22.0, "f g", "Bob")]
    segments = segment_episode(EPISODE, utterances, ChunkerConfig(window_words=3, overlap_words=1))
    assert [(s.text, s.start, s.end, s.speakers) for s in segments] == [
        ("a b c", 10.0, 16.0, ("Ann",)),
        ("c d e", 14.0, 20.0, ("Ann",)),
        ("e f g", 18.0, 22.0, ("Ann", "Bob")),
    ]


def test_utterances_are_read_in_time_order() -> None:
    utterances = [Utterance(5.0, 6.0, "later", "Bob"), Utterance(1.0, 2.0, "first", "Ann")]
    [segment] = segment_episode(EPISODE, utterances, ChunkerConfig())
    assert (segment.text, segment.start, segment.end) == ("first later", 1.0, 6.0)
    assert segment.speakers == ("Ann", "Bob")


def test_a_word_never_starts_before_an_earlier_word_when_cues_overlap() -> None:
    utterances = [Utterance(0.0, 10.0, "a b", "Ann"), Utterance(2.0, 3.0, "c d", "Bob")]
    segments = segment_episode(EPISODE, utterances, ChunkerConfig(window_words=1, overlap_words=0))
    assert [(s.text, s.start, s.end) for s in segments] == [
        ("a", 0.0, 5.0),
        ("b", 5.0, 10.0),
        ("c", 5.0, 5.0),
        ("d", 5.0, 5.0),
    ]


def test_windows_end_at_a_sentence_end_in_their_last_fifth() -> None:
    text = " ".join(words(300, stop_every=110))  # sentences end at w109, w219, w299
    segments = segment_episode(EPISODE, [Utterance(0, 300, text)], ChunkerConfig())
    assert [(p[0], p[-1]) for p in spans(segments)] == [(0, 109), (80, 199), (170, 299)]
    assert segments[0].text.endswith("w109.")


def test_a_short_remainder_is_absorbed_into_the_last_window() -> None:
    config = ChunkerConfig(window_words=120, overlap_words=30)
    for n, expected in [(132, [(0, 131)]), (133, [(0, 119), (90, 132)])]:
        text = " ".join(words(n))
        segments = segment_episode(EPISODE, [Utterance(0, 60, text)], config)
        assert [(p[0], p[-1]) for p in spans(segments)] == expected


def test_a_single_short_utterance_is_one_segment() -> None:
    utterance = Utterance(3.5, 7.25, "Hello there, world.", "Ann")
    [segment] = segment_episode(EPISODE, [utterance], ChunkerConfig())
    assert segment == Segment(EPISODE, 0, 3.5, 7.25, "Hello there, world.", ("Ann",))
    assert segment.point_id == segment_episode(EPISODE, [utterance], ChunkerConfig())[0].point_id


def test_no_utterances_give_no_segments() -> None:
    assert segment_episode(EPISODE, [], ChunkerConfig()) == []


@pytest.mark.parametrize(("window", "overlap"), [(30, 30), (30, 31), (30, -1), (0, 0)])
def test_a_window_not_longer_than_its_overlap_is_refused(window: int, overlap: int) -> None:
    config = ChunkerConfig(window_words=window, overlap_words=overlap)
    with pytest.raises(ValueError, match="window_words > overlap_words >= 0"):
        segment_episode(EPISODE, [Utterance(0, 1, "hi")], config)


@pytest.mark.changelog
def test_the_changelog_corpus_segments_quickly_and_completely(changelog: Path) -> None:
    config = ChunkerConfig()
    began = time.perf_counter()
    for episode in read_manifest(changelog / "episodes.jsonl"):
        utterances = parse_transcript(episode.transcript)
        segments = segment_episode(episode, utterances, config)
        total = sum(len(u.text.split()) for u in utterances)
        covered = sum(len(s.text.split()) for s in segments) - config.overlap_words * (
            len(segments) - 1
        )
        assert covered == total, episode.episode_id
    assert time.perf_counter() - began < 60


def test_bm25_sees_who_spoke_while_the_segment_text_stays_the_words() -> None:
    turns = [Utterance(0, 2, "Budget first.", "Grad C"), Utterance(2, 4, "Agreed.", "Anna")]
    segment = segment_episode(EPISODE, turns, ChunkerConfig())[0]
    assert segment.text == "Budget first. Agreed."
    assert keyword_text(segment) == "Grad C Anna Budget first. Agreed."


def test_a_transcript_without_speakers_borrows_the_episodes_credited_people() -> None:
    credited = Episode("ep", "Show", "Ep", Path("ep.vtt"), people=("Ada", "Grace"))
    unnamed = [Utterance(0, 10, " ".join(words(300)))]
    named = [Utterance(0, 5, "hello there", "Linus"), Utterance(5, 10, " ".join(words(300)))]
    config = ChunkerConfig()
    assert {s.speakers for s in segment_episode(credited, unnamed, config)} == {("Ada", "Grace")}
    assert ("Ada", "Grace") not in {s.speakers for s in segment_episode(credited, named, config)}


@pytest.mark.parametrize("seed", range(0, 200, 4))
def test_a_context_is_its_segment_widened_by_width_words_clipped_at_the_episode_ends(
    seed: int,
) -> None:
    utterances, config = case(seed)
    cuts = cut_episode(EPISODE, utterances, config.model_copy(update={"context_words": 7}))
    assert [cut.segment for cut in cuts] == segment_episode(EPISODE, utterances, config)
    last = sum(len(u.text.split()) for u in utterances) - 1
    for own, cut in zip(spans([cut.segment for cut in cuts]), cuts, strict=True):
        wide = list(range(max(0, own[0] - 7), min(last, own[-1] + 7) + 1))
        assert [position(w) for w in cut.context.split()] == wide


def test_a_contexts_bm25_text_names_the_segments_speakers_first() -> None:
    turns = [Utterance(0, 60, " ".join(words(200)), "Ann"), Utterance(60, 90, "Right.", "Bo")]
    first = cut_episode(EPISODE, turns, ChunkerConfig())[0]
    segment, context = first.segment, first.context
    assert context.split() == words(120 + ChunkerConfig().context_words)  # clipped on the left
    assert keyword_text(segment, context) == f"Ann {context}"
