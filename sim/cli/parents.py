"""The options several commands share, each declared once as an argparse parent parser (``parents=``):
every command that takes ``--seed`` gets the same option, with the same check and help."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli import arguments
from sim.outputs.files import FORMATS

__all__ = ["Parents"]


def _option(*flags: str, **settings: Any) -> argparse.ArgumentParser:
    """A parent parser holding one option (or positional argument)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*flags, **settings)
    return parent


class Parents:
    """The shared parent parsers of one ``airlift`` parser. An option whose default differs between
    commands (``-n``, ``--seed``) is built once per default, so commands with equal defaults share it."""

    def __init__(self) -> None:
        self._replications: dict[tuple[int | None, str], argparse.ArgumentParser] = {}
        self._seed: dict[tuple[int | None, str], argparse.ArgumentParser] = {}
        self.scenario = _option("scenario", nargs="?", help="scenario TOML file (default: the Kabul 2021 reference)")
        self.overrides = _option(
            "--set", action="append", metavar="KEY=VALUE", help="override a dotted key of the scenario, e.g. security.end=20"
        )
        self.out = _option("--out", type=arguments.usable_folder, metavar="DIR", help="output folder (default: see below)")
        self.plots = _option("--no-plots", action="store_true", help="skip the PNG plots")
        self.executor = _option(
            "--workers", type=arguments.at_least_one, metavar="N", help="run on N local processes (or Dask LocalCluster workers)"
        )
        self.executor.add_argument("--dask", metavar="ADDRESS", help="run on a dask.distributed scheduler at ADDRESS, or 'local'")
        self.table_format = _option(
            "--format", choices=FORMATS, default="csv", help="table format: csv (default) or parquet (needs pyarrow)"
        )
        self.ensemble = _option(
            "--ensemble",
            type=arguments.existing_file,
            metavar="FILE",
            help="spread replications over plausible settings (airlift calibrate)",
        )
        self.report = _option("--report", action="store_true", help="also write DIR/report.html")
        self.resume = _option("--resume", action="store_true", help="finish an interrupted run: run only what DIR lacks")
        self.metrics = _option(
            "--metric", action="append", metavar="NAME", help="a metric to report and plot (airlift metrics lists them)"
        )
        self.ranges = _option(
            "--vary", action="append", metavar="KEY=LO:HI", help="add or replace an uncertain parameter (uniform)"
        )

    def replications(self, default: int | None, default_text: str = "%(default)s") -> argparse.ArgumentParser:
        """``--replications/-n N``; ``default_text`` says what a ``None`` default means (e.g. a sweep file's number)."""
        key = (default, default_text)
        if key not in self._replications:
            help_text = f"replications of each scenario or point (default: {default_text})"
            self._replications[key] = _option(
                "--replications", "-n", type=arguments.at_least_one, default=default, metavar="N", help=help_text
            )
        return self._replications[key]

    def seed(self, default: int | None, default_text: str = "%(default)s") -> argparse.ArgumentParser:
        """``--seed S``; ``default_text`` says what a ``None`` default means (e.g. a sweep file's seed)."""
        key = (default, default_text)
        if key not in self._seed:
            help_text = f"random seed, 0 to 2**63 - 1 (default: {default_text})"
            self._seed[key] = _option("--seed", type=arguments.seed, default=default, metavar="S", help=help_text)
        return self._seed[key]
