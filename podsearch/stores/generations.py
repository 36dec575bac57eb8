"""Atomic publication of Qdrant Edge index generations.

An Edge shard is locked by the process that writes it, so the indexer never writes what the API
reads. It writes a private `staging/` shard, and `publish()` puts a copy of it in
`generations/<name>/` and then swaps the `CURRENT` pointer with one `os.replace` (the embedded
twin of an alias swap on Qdrant server). Readers follow `CURRENT`, so they see either the old
or the new generation, never a half-written one. Published shards are created without a WAL,
which lets several reader processes open the same generation.

Publishing costs what changed, not the index size: a staging file whose stat signature (inode,
size, mtime, ctime) is the one recorded at the previous publication is unchanged, so the new
generation hard-links the previous generation's copy of it; only the rest is copied. The engine
does rewrite files in place (the appendable segment, deletion flags), which is why a generation
never links a *staging* inode: staging and generations share no file, so nothing the indexer
writes can reach a published generation. A write after a publication always moves the mtime,
because the publication waits out the filesystem's clock tick before the shard is reopened;
a filesystem whose timestamps miss writes through a mapping, or count whole seconds, is detected
with a probe file and then everything is copied, as before.

```
<root>/CURRENT              name of the live generation
<root>/generations/<name>/  published, read-only shards (the newest `KEEP` are kept)
<root>/staging/             the indexer's working shard + episodes.json (fingerprints)
<root>/published-files.json stat signatures of staging's files at the last publication
<root>/indexer.lock         held by the one indexer allowed to write
```
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from podsearch.errors import IndexerBusy, IndexNotReady, StoreUnavailable

KEEP = 2  # the live generation and the one before it, for `rollback`
_TMP_PREFIX = ".tmp-"
_CLOCK_TICK_S = 0.02  # coarser than any Linux filesystem's timestamp granularity

Signature = list[int]


@dataclass(frozen=True)
class Publication:
    """A published generation and what publishing it cost."""

    folder: Path
    copied_files: int
    copied_bytes: int
    linked_files: int
    linked_bytes: int
    seconds: float


class GenerationDir:
    """The folder layout above, and the only code that touches `CURRENT`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer = root / "CURRENT"
        self.generations = root / "generations"
        self.staging = root / "staging"
        self._reliable_stamps: bool | None = None

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

    def publish(self, staging: Path) -> Publication:
        """Link/copy a closed staging folder in as a new generation, switch to it, prune."""
        started = time.perf_counter()
        self.generations.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}"
        tmp = self.generations / f"{_TMP_PREFIX}{name}"
        previous, recorded = self._recorded() if self._stamps_are_reliable(staging) else (None, {})
        copied: list[int] = []  # sizes
        linked: list[int] = []
        signatures: dict[str, Signature] = {}
        for source in sorted(p for p in staging.rglob("*") if p.is_file()):
            relative = str(source.relative_to(staging))
            target = tmp / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            signature = _signature(source)
            if previous is not None and recorded.get(relative) == signature:
                os.link(previous / relative, target)
                linked.append(signature[1])
            else:
                shutil.copy2(source, target)
                copied.append(signature[1])
            signatures[relative] = signature
        final = self.generations / name
        tmp.rename(final)
        self._point_to(name)
        self._record(name, signatures)
        seconds = time.perf_counter() - started
        time.sleep(_CLOCK_TICK_S)  # so the next write to staging cannot keep a recorded mtime
        self._prune(keep=final)
        return Publication(final, len(copied), sum(copied), len(linked), sum(linked), seconds)

    def rollback(self, staging: Path) -> Path:
        """Make the generation before the live one live again, drop the newer one, and reset
        staging to it, so the next run redoes the rolled-back changes rather than republishing
        them."""
        target = self.previous()
        self._point_to(target.name)
        restored = staging.with_name(f"{_TMP_PREFIX}staging")
        shutil.rmtree(restored, ignore_errors=True)
        shutil.copytree(target, restored)
        shutil.rmtree(staging, ignore_errors=True)
        restored.rename(staging)
        self._signatures_file.unlink(missing_ok=True)
        for newer in self._published():
            if newer.name > target.name:
                shutil.rmtree(newer, ignore_errors=True)
        return target

    def previous(self) -> Path:
        """The generation before the live one: what `rollback` makes live."""
        live = self.current()
        older = [p for p in self._published() if p.name < live.name] if live else []
        if live is None or not older:
            raise IndexNotReady(f"no earlier generation to roll back to under {self.root}")
        return older[-1]

    def _stamps_are_reliable(self, folder: Path) -> bool:
        """Whether this filesystem moves a file's mtime, finer than whole seconds, when it is
        written through a shared mapping (as the engine writes). Checked once per process on a
        probe file; if not, no signature is trusted and every file is copied."""
        if self._reliable_stamps is None:
            probe = folder / ".mtime-probe"
            probe.write_bytes(b"\0" * mmap.PAGESIZE)
            before = probe.stat()
            time.sleep(_CLOCK_TICK_S)
            with probe.open("r+b") as handle, mmap.mmap(handle.fileno(), mmap.PAGESIZE) as page:
                page[0] = 1
                page.flush()
            after = probe.stat()
            probe.unlink()
            self._reliable_stamps = (
                after.st_mtime_ns != before.st_mtime_ns and after.st_mtime_ns % 10**9 != 0
            )
        return self._reliable_stamps

    @property
    def _signatures_file(self) -> Path:
        return self.root / "published-files.json"

    def _recorded(self) -> tuple[Path | None, dict[str, Signature]]:
        """The live generation and staging's file signatures when it was published."""
        live = self.current()
        try:
            record = json.loads(self._signatures_file.read_text())
        except (OSError, ValueError):
            return None, {}
        if live is None or record.get("generation") != live.name or not live.is_dir():
            return None, {}
        return live, dict(record["files"])

    def _record(self, name: str, signatures: dict[str, Signature]) -> None:
        tmp = self.root / f"{_TMP_PREFIX}published-files.json"
        tmp.write_text(json.dumps({"generation": name, "files": signatures}))
        os.replace(tmp, self._signatures_file)

    def _point_to(self, name: str) -> None:
        pointer_tmp = self.root / f"{_TMP_PREFIX}CURRENT"
        pointer_tmp.write_text(name + "\n")
        os.replace(pointer_tmp, self.pointer)

    def _published(self) -> list[Path]:
        entries = self.generations.iterdir()
        return sorted(p for p in entries if p.is_dir() and not p.name.startswith(_TMP_PREFIX))

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


def _signature(path: Path) -> Signature:
    """Changes whenever the file is replaced or written (size, times) on any local filesystem."""
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev]


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
