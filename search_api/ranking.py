"""Query understanding on the store's candidates, before they are merged into moments.

"What did Anna think about the budget?" asks for the budget *as Anna talked about it*. Segment
text does not say who spoke (only the `speakers` payload does), so a query that names a speaker
of the candidates and asks what someone said (a speech or opinion word: "say", "think",
"suggest", "opinion"...) lifts the segments where that speaker talks; "What salary did Jordan
get?" names Jordan without asking for Jordan's words, and is left alone. Names are matched
against the speakers the candidates carry (no extra store call): a full word of the name ("Anna",
"professor", "project manager") or a capital letter standing alone, as meeting transcripts name
people ("What did C think" matches "Grad C"). Only the best-matching speakers count, so
"PhD A" picks "PhD A", not every PhD.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from podsearch.models import SegmentHit

SPEAKER_BOOST = 0.5  # score x 1.5 where a named speaker talks: measured on both eval sets
_WORD = re.compile(r"[^\W_]+")
_SPEECH = re.compile(
    r"\b(say|says|said|saying|think|thinks|thought|feel|feels|felt|suggest\w*|propos\w*"
    r"|mention\w*|argu\w*|explain\w*|describ\w*|believ\w*|opinions?|views?|contribut\w*"
    r"|recommend\w*|talk\w*|discuss\w*|agree\w*|disagree\w*|present\w*|respon\w*|comment\w*"
    r"|elaborat\w*|perspectives?|positions?|stance|question(?:ed)?|answer\w*|learn(?:ed|t)?|conclu\w*"
    r"|decid\w*|introduc\w*|approach\w*)\b",
    re.IGNORECASE,
)
# Parts of a name that say nothing about who it is.
_TITLES = frozenset("the hon mr mrs ms dr am mp of and acting chair".split())


def named_speakers(query: str, hits: Sequence[SegmentHit]) -> set[str]:
    """The candidates' speakers the query names best, when it asks what someone said (else
    none)."""
    if not _SPEECH.search(query):
        return set()
    said = _WORD.findall(query)
    words = {w.casefold() for w in said if len(w) > 1}
    # "I" is a pronoun and a leading "A" an article, not a name.
    letters = {w for w in said if len(w) == 1 and w.isupper() and w != "I"}
    if said[:1] == ["A"] and "A" not in said[1:]:
        letters.discard("A")
    matches: dict[str, int] = {}
    for hit in hits:
        for speaker in hit.speakers:
            if speaker not in matches:
                matches[speaker] = _matching_parts(speaker, words, letters)
    best = max(matches.values(), default=0)
    return {speaker for speaker, n in matches.items() if n == best > 0}


def _matching_parts(speaker: str, words: set[str], letters: set[str]) -> int:
    """Distinct parts of the name the query says: "Deputy Prime Minister and Minister of
    Finance" says "Minister" twice, and names the Prime Minister no better than "Prime
    Minister" does."""
    parts = {p for p in _WORD.findall(speaker) if p.casefold() not in _TITLES}
    return sum(p in letters if len(p) == 1 else p.casefold() in words for p in parts)


def boost_named_speakers(query: str, hits: Sequence[SegmentHit]) -> list[SegmentHit]:
    """The candidates, best first, with segments of the speakers the query names lifted."""
    speakers = named_speakers(query, hits)
    if not speakers:
        return list(hits)
    lifted = [
        hit._replace(score=hit.score * (1 + SPEAKER_BOOST))
        if hit.score > 0 and speakers.intersection(hit.speakers)
        else hit
        for hit in hits
    ]
    return sorted(lifted, key=lambda hit: (-hit.score, hit.id))
