"""The package version, at the bottom of the tree: every module may import it, it imports nothing of ``sim``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("airlift")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
