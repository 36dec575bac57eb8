"""The optional second stage of a search: a cross-encoder rescores the first moments.

Off by default (`PODSEARCH_API__RERANK_DEPTH=0`). When on, the first `depth` candidate moments
are rescored by the embedding service's reranker (`POST /v1/rerank`): each moment's segments
are fetched by id and scored against the query, a moment takes the score of its best segment
(one window per pair, so nothing is cut to fit the model's token window), and those moments are
reordered by it; the moments after them keep the store's order. A reordered moment's `score` is
then the reranker's relevance (0-1 for the ms-marco cross-encoders), not the fused score.

The stage never fails a search: no reranker, an embedder without one, an error, the deadline or
an open circuit leave the store's order and say why (`rerank.applied: false`, `reason`), the way
a dead embedder degrades a search to keyword results. Scores are never made up.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from podsearch.errors import EmbedderError, EmbedderResponseInvalid, RerankUnavailable
from podsearch.ports import Reranker, SegmentReader
from search_api.embedder_link import why_degraded, within_deadline
from search_api.moments import MomentDraft

log = logging.getLogger("podsearch.api")


@dataclass(frozen=True)
class RerankOutcome:
    """What the stage did to one search (`schemas.RerankInfo`)."""

    applied: bool
    moments: int = 0  # the leading moments now in the reranker's order
    model: str | None = None
    reason: str | None = None  # why it was skipped

    def body(self) -> dict[str, object]:
        return asdict(self)


class RerankStage:
    """Rescoring of a search's first moments, under its own deadline."""

    def __init__(
        self,
        reranker: Reranker | None,
        reader: SegmentReader,
        depth: int,
        deadline_s: float,
    ) -> None:
        self.reranker = reranker
        self.reader = reader
        self.depth = depth
        self.deadline_s = deadline_s

    async def run(
        self, query: str, moments: list[MomentDraft], degraded: bool
    ) -> tuple[list[MomentDraft], RerankOutcome]:
        """The moments, the first `depth` of them in the reranker's order (or all as they were,
        and why)."""
        head = moments[: self.depth]
        if self.reranker is None:
            return moments, RerankOutcome(False, reason="no reranker configured")
        if degraded:  # the reranker lives beside the embedder that just failed
            return moments, RerankOutcome(False, reason="the embedder is unavailable")
        if not head:
            return moments, RerankOutcome(False, reason="no candidates")
        payloads = await self.reader.fetch([h.id for m in head for h in m.hits])
        owners, texts = [], []  # per segment scored: its moment, its words
        for n, moment in enumerate(head):
            for hit in moment.hits:
                if hit.id in payloads:
                    owners.append(n)
                    texts.append(payloads[hit.id].text)
        if not texts:
            return moments, RerankOutcome(False, reason="no candidates")
        reranker = self.reranker
        circuit = getattr(reranker, "rerank_circuit", None)  # a RemoteEmbedder's
        try:
            answer = await within_deadline(
                circuit, self.deadline_s, lambda: reranker.rerank(query, texts)
            )
        except RerankUnavailable:
            return moments, RerankOutcome(False, reason="the embedder has no reranker")
        except EmbedderResponseInvalid as exc:
            log.error("search not reranked, invalid scores: %s", exc)
            return moments, RerankOutcome(False, reason="reranker failed: invalid scores")
        except (EmbedderError, TimeoutError) as exc:
            log.warning("search not reranked: %s", exc)
            reason = f"reranker unavailable: {why_degraded(exc, self.deadline_s)}"
            return moments, RerankOutcome(False, reason=reason)
        best: dict[int, float] = {}  # moment -> its best segment's score, best moments first
        for result in answer.results:  # best first
            best.setdefault(owners[result.index], result.relevance_score)
        for n, score in best.items():
            head[n].score = score
        unscored = [m for n, m in enumerate(head) if n not in best]  # not in the store any more
        reranked = [head[n] for n in best] + unscored
        return reranked + moments[self.depth :], RerankOutcome(True, len(best), answer.model)
