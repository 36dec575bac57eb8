"""Facet counts over a search's candidates, through the real API on the sample index."""

from __future__ import annotations

from collections import Counter

import httpx

from tests.search_api.test_search_features import get


def counts(body: dict, facet: str) -> dict[str, int]:  # type: ignore[type-arg]
    return {v["value"]: v["count"] for v in body["facets"][facet]}


async def test_facets_count_the_candidate_moments(client: httpx.AsyncClient) -> None:
    # "compost" by keyword has few moments: the page holds every candidate, so the counts can
    # be checked against the moments themselves.
    body = await get(client, q="compost", mode="keyword", limit=50, facets="podcast,speaker,year")
    moments = body["results"]
    assert moments and body["next_cursor"] is None
    assert counts(body, "podcast") == Counter(m["podcast"] for m in moments)
    assert counts(body, "speaker") == Counter(s for m in moments for s in m["speakers"])
    assert counts(body, "year") == Counter(m["published"][:4] for m in moments)
    values = [v["count"] for v in body["facets"]["speaker"]]
    assert values == sorted(values, reverse=True)


async def test_facets_respect_the_filters_and_leave_results_alone(
    client: httpx.AsyncClient,
) -> None:
    plain = await get(client, q="budget", limit=10)
    faceted = await get(client, q="budget", limit=10, facets=["podcast", "year"])
    assert plain["facets"] is None and set(faceted["facets"]) == {"podcast", "year"}
    assert [m["segment_ids"] for m in faceted["results"]] == [
        m["segment_ids"] for m in plain["results"]
    ]
    assert len(counts(faceted, "podcast")) > 1
    only = await get(client, q="budget", podcast="The Night Shift", facets="podcast,year")
    assert list(counts(only, "podcast")) == ["The Night Shift"]
    year = next(iter(counts(only, "year")))
    dated = await get(
        client,
        q="budget",
        published_after=f"{year}-01-01",
        published_before=f"{year}-12-31T23:59:59",
        facets="year",
    )
    assert list(counts(dated, "year")) == [year]


async def test_an_unknown_facet_is_a_clear_error(client: httpx.AsyncClient) -> None:
    answer = await client.get("/search", params={"q": "budget", "facets": "podcast,colour"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_facet"
    assert "colour" in answer.json()["error"]["message"]
