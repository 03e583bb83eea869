from __future__ import annotations

from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def small_path() -> Path:
    return DATA / "small.toml"


@pytest.fixture
def small(small_path: Path) -> sim.Scenario:
    return sim.load_scenario(small_path)
