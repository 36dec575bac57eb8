"""Cutting one episode's utterances into overlapping word windows that keep time and speakers.

Windows are long enough to answer a question (one-sentence chunks could not, see
docs/design-notes.md) and overlap so a passage cut at one window's edge is whole in the next.
A word's time is interpolated inside its utterance; a window ends at a sentence end when one
lies in its last fifth.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from podsearch.index_meta import ChunkerConfig
from podsearch.models import Episode, Segment, Utterance

CUT_ZONE = 0.2  # fraction of a window, at its end, searched for a sentence end
_CLOSERS = "\"'”’)]"
_STOPS = (".", "!", "?", "…")


@dataclass(frozen=True)
class Cut:
    """A segment and its context: the segment's words with up to `ChunkerConfig.context_words`
    more on either side, clipped at the episode's ends. Searched within one episode beside the
    segment itself, a wider passage locates the talk around the answer
    (`search_api.query_understanding.passages`)."""

    segment: Segment
    context: str


def cut_episode(
    episode: Episode, utterances: Sequence[Utterance], config: ChunkerConfig
) -> list[Cut]:
    """Segments 0..n-1 of one episode, in order, each with its context; no utterances gives
    none."""
    if not 0 <= config.overlap_words < config.window_words:
        raise ValueError(
            f"need window_words > overlap_words >= 0, got window_words={config.window_words}, "
            f"overlap_words={config.overlap_words}"
        )
    timeline = _Timeline.of(utterances)
    words, width = timeline.words, config.context_words
    spans = _windows(words, config.window_words, config.overlap_words)
    # A transcript that names no speaker at all borrows the episode's credited people.
    credited = () if any(u.speaker for u in utterances) else episode.people
    return [
        Cut(
            Segment(
                episode=episode,
                index=index,
                start=timeline.start(a),
                end=timeline.end(b - 1),
                text=" ".join(words[a:b]),
                speakers=timeline.speakers(a, b) or credited,
            ),
            " ".join(words[max(0, a - width) : b + width]),
        )
        for index, (a, b) in enumerate(spans)
    ]


def segment_episode(
    episode: Episode, utterances: Sequence[Utterance], config: ChunkerConfig
) -> list[Segment]:
    """The segments of `cut_episode` alone, for whoever needs no contexts."""
    return [cut.segment for cut in cut_episode(episode, utterances, config)]


def keyword_text(segment: Segment, context: str | None = None) -> str:
    """What BM25 indexes: the words (of the segment, or of its `context`), and who said the
    segment's, so "what did Anna say" can match Anna's segments by name (the displayed text
    stays the words alone)."""
    return " ".join([*segment.speakers, segment.text if context is None else context])


def tail_slack(window: int) -> int:
    """How many words past `window` the last segment may take instead of leaving a scrap."""
    return window // 10


@dataclass(frozen=True)
class _Timeline:
    """An episode's words; times and speakers are looked up per utterance, only where needed."""

    words: list[str]
    utterances: list[Utterance]
    first: list[int]  # index of each utterance's first word, then len(words)
    floor: list[float]  # the clock never runs backwards: no word starts before an earlier one

    @classmethod
    def of(cls, utterances: Sequence[Utterance]) -> _Timeline:
        spoken: list[Utterance] = []
        words: list[str] = []
        first: list[int] = []
        floor: list[float] = []
        clock = -math.inf
        for utterance in sorted(utterances, key=lambda u: u.start):
            tokens = utterance.text.split()
            if not tokens:
                continue
            spoken.append(utterance)
            first.append(len(words))
            floor.append(clock)
            words += tokens
            clock = max(clock, _interpolate(utterance, len(tokens) - 1, len(tokens)))
        first.append(len(words))
        return cls(words, spoken, first, floor)

    def start(self, word: int) -> float:
        u, i, n = self._locate(word)
        return max(self.floor[u], _interpolate(self.utterances[u], i, n))

    def end(self, word: int) -> float:
        u, i, n = self._locate(word)
        return max(self.floor[u], _interpolate(self.utterances[u], i + 1, n))

    def speakers(self, a: int, b: int) -> tuple[str, ...]:
        """Distinct speakers of words a..b-1, in order of first appearance."""
        said = self.utterances[self._locate(a)[0] : self._locate(b - 1)[0] + 1]
        return tuple(dict.fromkeys(u.speaker for u in said if u.speaker))

    def _locate(self, word: int) -> tuple[int, int, int]:
        """Utterance of a word, the word's position in it, and the utterance's word count."""
        u = bisect_right(self.first, word, hi=len(self.utterances)) - 1
        return u, word - self.first[u], self.first[u + 1] - self.first[u]


def _interpolate(utterance: Utterance, i: int, n: int) -> float:
    """When word i of n starts (i == n: when the last one ends), assuming an even pace."""
    return utterance.start + (utterance.end - utterance.start) * i / n


def _windows(words: Sequence[str], window: int, overlap: int) -> Iterator[tuple[int, int]]:
    """Word ranges [a, b), each starting `overlap` words before the previous one ends."""
    start = 0
    while len(words) - start > window + tail_slack(window):
        end = _cut(words, start, window, overlap)
        yield start, end
        start = end - overlap
    if words:
        yield start, len(words)


def _cut(words: Sequence[str], start: int, window: int, overlap: int) -> int:
    """The last sentence end in the window's final fifth, else the full window."""
    full = start + window
    earliest = max(start + overlap + 1, full - int(window * CUT_ZONE))
    for end in range(full, earliest - 1, -1):
        if words[end - 1].rstrip(_CLOSERS).endswith(_STOPS):
            return end
    return full
