"""Atomic publication of Qdrant Edge index generations.

An Edge shard is locked by the process that writes it, so the indexer never writes what the API
reads. It writes a private `staging/` shard, and `publish()` copies it into
`generations/<name>/` and then swaps the `CURRENT` pointer with one `os.replace` (the embedded
twin of an alias swap on Qdrant server). Readers follow `CURRENT`, so they see either the old
or the new generation, never a half-written one. Published shards are created without a WAL,
which lets several reader processes open the same generation.

```
<root>/CURRENT              name of the live generation
<root>/generations/<name>/  published, read-only shards (the newest `KEEP` are kept)
<root>/staging/             the indexer's working shard + episodes.json (fingerprints)
<root>/indexer.lock         held by the one indexer allowed to write
```
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from pathlib import Path
from typing import IO

from podsearch.errors import IndexerBusy, StoreUnavailable

KEEP = 2
_TMP_PREFIX = ".tmp-"


class GenerationDir:
    """The folder layout above, and the only code that touches `CURRENT`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer = root / "CURRENT"
        self.generations = root / "generations"
        self.staging = root / "staging"

    def current(self) -> Path | None:
        """The live generation's folder, or None before the first publication."""
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreUnavailable(f"the index pointer cannot be read ({_why(exc)})") from exc
        if not name or "/" in name or name.startswith("."):
            raise StoreUnavailable("the index pointer names no valid generation")
        return self.generations / name

    def pointer_stamp(self) -> int | None:
        """Changes whenever a new generation is published (cheap enough to check per request)."""
        try:
            return self.pointer.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"the index pointer cannot be read ({_why(exc)})") from exc

    def publish(self, shard_folder: Path) -> Path:
        """Copy a closed shard in as a new generation, switch to it, prune old ones."""
        self.generations.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}"
        tmp = self.generations / f"{_TMP_PREFIX}{name}"
        shutil.copytree(shard_folder, tmp)
        final = self.generations / name
        tmp.rename(final)
        pointer_tmp = self.root / f"{_TMP_PREFIX}CURRENT"
        pointer_tmp.write_text(name + "\n")
        os.replace(pointer_tmp, self.pointer)
        self._prune(keep=final)
        return final

    def _prune(self, keep: Path) -> None:
        """Drop leftovers of crashed publications and all but the newest generations.

        A reader still on a pruned generation keeps working (its files stay mapped) until it
        notices the new pointer, which it checks on every request.
        """
        entries = sorted(p for p in self.generations.iterdir() if p.is_dir())
        published = [p for p in entries if not p.name.startswith(_TMP_PREFIX)]
        stale = [p for p in entries if p.name.startswith(_TMP_PREFIX)]
        stale += [p for p in published[:-KEEP] if p != keep]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)


def _why(exc: Exception) -> str:
    """What went wrong, without the path (responses and logs never carry server paths)."""
    return getattr(exc, "strerror", None) or type(exc).__name__


class WriterLock:
    """An exclusive advisory lock so that two indexers never write the same index."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise IndexerBusy(f"another indexer is writing {self._path.parent}") from exc
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
