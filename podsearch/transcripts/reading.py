"""Reading a text file once, turning every way it can fail into a TranscriptError."""

from __future__ import annotations

from pathlib import Path

from podsearch.errors import TranscriptError


def read_text(path: Path) -> str:
    """Decode a UTF-8 file with '\\n' line ends, so every parser can count lines the same way."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(path, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(path, f"not UTF-8 (byte {exc.start})", line=line) from exc
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
