"""Store adapters behind `SegmentReader` / `SegmentWriter`; pick one from settings."""

from __future__ import annotations

from podsearch.ports import SegmentReader, SegmentWriter
from podsearch.settings import StoreSettings


def open_reader(settings: StoreSettings) -> SegmentReader:
    if settings.backend == "qdrant":
        from podsearch.stores.qdrant_server import QdrantServerStore

        return QdrantServerStore(settings)
    from podsearch.stores.edge import EdgeReader

    return EdgeReader(settings.path)


def open_writer(settings: StoreSettings, rebuild: bool = False) -> SegmentWriter:
    if settings.backend == "qdrant":
        from podsearch.stores.qdrant_server import QdrantServerStore

        return QdrantServerStore(settings, rebuild=rebuild)
    from podsearch.stores.edge import EdgeWriter

    return EdgeWriter(settings.path, rebuild=rebuild)
