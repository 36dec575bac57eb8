"""Every error podsearch raises on purpose.

```
PodsearchError
 ├─ EmbedderError ─┬─ EmbedderUnavailable      timeout/connect/5xx -> retry; API degrades or 503
 │                 │   └─ CircuitOpen          failed repeatedly: not even attempted
 │                 ├─ EmbedderAuthFailed       401/403: wrong or missing token -> indexer stops
 │                 ├─ RerankUnavailable        no reranking model there: search skips the stage
 │                 └─ EmbedderResponseInvalid  wrong count/dimension/non-finite -> 502, never stored
 ├─ StoreError ──┬─ StoreUnavailable           -> 503
 │               ├─ IndexNotReady              nothing published yet -> 503
 │               ├─ IndexMismatch              index built by another embedding recipe -> 409
 │               └─ PointIdCollision           two points would share an id -> indexer stops
 ├─ IndexerBusy                                another indexer holds the write lock
 ├─ FeedError(source)                          a feed or its transcript: report, skip it


 ├─ PruneRefused                               --prune would delete too much of the index
 └─ TranscriptError(path, line)                indexer: report, count, skip the file
```
Adapters translate library exceptions at the edge (`raise ... from exc`); `search_api.errors` is
the one place that maps them to HTTP status codes and stable `code` strings.
"""

from __future__ import annotations

from pathlib import Path


class PodsearchError(Exception):
    """Base of every podsearch error."""


class EmbedderError(PodsearchError):
    """The embedding service could not produce usable vectors."""


class EmbedderUnavailable(EmbedderError):
    """Timeout, refused connection, 429 or 5xx: worth a retry or a degraded answer."""


class CircuitOpen(EmbedderUnavailable):
    """The service failed too often lately: this call was not attempted (the indexer stops)."""


class EmbedderAuthFailed(EmbedderError):
    """The service refused our credentials: a configuration error, the same for every input."""


class RerankUnavailable(EmbedderError):
    """The service has no reranking model configured: searches go on without the stage."""


class EmbedderResponseInvalid(EmbedderError):
    """The embedder answered, but with vectors we must never use or store."""


class StoreError(PodsearchError):
    """The vector store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or opened."""


class IndexNotReady(StoreError):
    """No index has been published yet: run the indexer."""


class IndexMismatch(StoreError):
    """The index was built with another embedding recipe or chunker than the one in use."""


class PointIdCollision(StoreError):
    """An episode's point would take the id of another point (64-bit ids: `models.point_number`)."""


class IndexerBusy(PodsearchError):
    """Another indexer process holds the write lock of this index."""


class FeedError(PodsearchError):
    """A feed, OPML list or linked file cannot be fetched or read; names its URL or path."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"{source}: {message}")


class PruneRefused(PodsearchError):
    """`--prune` would delete more of the index than allowed (an empty or truncated manifest?)."""


class TranscriptError(PodsearchError):
    """A transcript file cannot be parsed; carries where, so the user can fix it."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")
