"""Reading a transcript or manifest safely, turning every way it can fail into a TranscriptError.

Only regular files are read, and never more than `max_bytes`: a device file (`/dev/zero`) would
exhaust memory and a named pipe would block the indexer forever, so the file is opened without
blocking and checked with `fstat` before a single byte is read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from podsearch.errors import TranscriptError


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one input file: its size, and the text of one line / cue / JSON segment."""

    max_bytes: int = 32 * 2**20
    max_line_chars: int = 50_000


DEFAULT_LIMITS = ReadLimits()


def read_bytes(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a regular file of at most `limits.max_bytes`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise TranscriptError(path, f"cannot read file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TranscriptError(path, "not a regular file (a device, pipe or socket)")
        if info.st_size > limits.max_bytes:
            raise TranscriptError(path, f"larger than {limits.max_bytes} bytes")
        try:
            data = handle.read(limits.max_bytes + 1)
        except OSError as exc:
            raise TranscriptError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:  # it grew while we read it
        raise TranscriptError(path, f"larger than {limits.max_bytes} bytes")
    return data


def read_text(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> str:
    """Decode a UTF-8 file with '\\n' line ends, so every parser can count lines the same way."""
    data = read_bytes(path, limits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(path, f"not UTF-8 (byte {exc.start})", line=line) from exc
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def check_text(
    value: str,
    path: Path,
    where: str,
    limits: ReadLimits = DEFAULT_LIMITS,
    line: int | None = None,
) -> None:
    """A decoded string we may store: bounded, and encodable (JSON's `\\ud800` escapes decode
    to lone surrogates, which no UTF-8 writer downstream accepts)."""
    if len(value) > limits.max_line_chars:
        message = f"{where}: longer than {limits.max_line_chars} characters"
        raise TranscriptError(path, message, line=line)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        message = f"{where}: lone surrogate {value[exc.start]!r}"
        raise TranscriptError(path, message, line=line) from exc
