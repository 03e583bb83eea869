"""What every command shares: dotted ``--set`` overrides read into a mapping (checked by the description layer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.description.overrides import parse_override

__all__ = ["overrides_of"]


def overrides_of(items: Sequence[str] | None) -> dict[str, Any]:
    """``["gates.abbey.lanes=6", ...]`` as ``{"gates.abbey.lanes": 6}``, each value read as TOML."""
    return dict(parse_override(x) for x in items or [])
