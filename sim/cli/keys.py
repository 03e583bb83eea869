"""The ``airlift keys`` command: every scenario key with its type, default and meaning."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.parents import Parents

__all__ = ["add_parser", "cmd"]


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser("keys", help="print every scenario key with its type, default and meaning")
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.description.key_table import keys_markdown

    print(keys_markdown(), end="")
    return 0
