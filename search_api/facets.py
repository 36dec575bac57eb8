"""Facet counts over a search's candidates: how many of the moments the search ranked fall in
each podcast, speaker and year.

A semantic search has no "matching set" (every segment is some distance away), so the counts are
over the candidates: the moments built from the top segments the store returned for this search
(at least 100 segments; the same for every page of one window). They respect the filters, since
the candidates do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel

from podsearch.contract import ApiError, ErrorCode
from podsearch.models import SegmentPayload
from search_api.moments import MomentDraft

FACETS = ("podcast", "speaker", "year")


class FacetValue(BaseModel):
    value: str
    count: int


def parse_facets(raw: Iterable[str]) -> tuple[str, ...]:
    """`facets=podcast,year` and `facets=podcast&facets=year` alike; unknown names are a 422."""
    names = [name.strip() for item in raw for name in item.split(",") if name.strip()]
    unknown = sorted(set(names) - set(FACETS))
    if unknown:
        raise ApiError(
            422,
            ErrorCode.invalid_facet,
            f"unknown facet {unknown[0]!r}: choose from {', '.join(FACETS)}",
        )
    return tuple(dict.fromkeys(names))


def _values(moment: MomentDraft, payloads: Mapping[str, SegmentPayload], facet: str) -> list[str]:
    said = [payloads[h.id] for h in moment.hits if h.id in payloads]
    if not said:
        return []
    if facet == "podcast":
        return [said[0].podcast]
    if facet == "speaker":
        return list(dict.fromkeys(s for p in said for s in p.speakers))
    published = said[0].published
    return [published[:4]] if published else []


def count_facets(
    moments: Sequence[MomentDraft], payloads: Mapping[str, SegmentPayload], facets: Sequence[str]
) -> dict[str, list[FacetValue]]:
    """Per facet, its values by count (most first, then by value); `payloads` are the moments'
    segments' (ranked hits carry no metadata)."""
    counted: dict[str, list[FacetValue]] = {}
    for facet in facets:
        counts = Counter(value for m in moments for value in _values(m, payloads, facet))
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        counted[facet] = [FacetValue(value=value, count=n) for value, n in ordered]
    return counted
