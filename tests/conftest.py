"""Fixtures shared across the suite: small real data, no mocks of our own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import CHANGELOG


@pytest.fixture
def changelog() -> Path:
    if not (CHANGELOG / "episodes.jsonl").exists():
        pytest.skip(f"the Changelog corpus is not at {CHANGELOG} (it lives in ../shared)")
    return CHANGELOG
