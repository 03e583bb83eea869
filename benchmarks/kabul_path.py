"""The Kabul path, day by day, against the published 24-hour figures (issue 19).

    airlift run scenarios/kabul_2021.toml -n 6 --no-plots --out out/kabul_path
    python benchmarks/kabul_path.py out/kabul_path [out/another_run ...] [--bands 21:30]

Reads each run's ``timeseries.csv`` (the mean over its replications, read between hours by linear
interpolation) and prints, per run: the people flown in each 24 hours to 11:30 Kabul from 21 to
30 Aug, all operators and US military, with the departures, beside the White House / Pentagon
figures of the same 24 hours; the mean absolute relative error over those ten days and the error
of the 24 Aug peak (the goal of issue 19: within 20% on average, the peak within 15%); the
running totals "since 14 Aug" on the model's own basis and on the record's (coalition flights
counted only from about 21 Aug); and the people waiting on the airfield at noon on the days the
record names. With ``--bands 21:30``, also each day's 5-95% band across the replications (with
``airlift run --ensemble``, one replication per plausible setting) and how many days hold the record.
What each published figure is, and where it was published, is in docs/kabul-path.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2021-08-14T00:00:00+04:30")
"""The Kabul scenario's start: hour 0 of ``timeseries.csv``."""

DAILY = {
    21: (3800, None, 6, 32),
    22: (7800, 3900, 23, 35),
    23: (16300, 10400, 28, 61),
    24: (21600, 12700, 37, 57),
    25: (19000, 11200, 42, 48),
    26: (13400, 5100, 17, 74),
    27: (12500, 8500, 35, 54),
    28: (6800, 4000, 32, 34),
    29: (2900, 2200, 32, 9),
    30: (1200, None, 26, 2),
}
"""Published 24 hours to 11:30 Kabul on each day of August: (people flown, all operators; of them on
US military aircraft, or None if not split; US military flights; coalition and charter flights).
21 Aug counts US C-17s and charters only."""

RUNNING = [
    (17, "11:30", ".us", 3200),
    (19, "11:30", ".us", 7000),
    (20, "11:30", ".us", 13000),
    (22, "23:30", "", 30300),
    (24, "11:30", "", 58700),
    (27, "11:30", "", 105000),
    (30, "11:30", "", 116700),
]
"""Published running totals since 14 Aug: (day, time, column suffix, value); US military only to 20 Aug."""

AIRFIELD = [(19, ">= 6,000 fully processed"), (20, "about 10,000"), (24, "a little above 5,000"), (25, "> 10,000"), (27, "5,400")]
"""People on the airfield awaiting flights, as published (read at noon)."""

Reader = Callable[[int, str, str], float]


def reader(folder: Path) -> Reader:
    """``at(day, "HH:MM", column)``: the run's mean of ``column`` at that time in August."""
    table = pd.read_csv(folder / "timeseries.csv")
    mean = table.groupby("hours").mean(numeric_only=True)

    def at(day: int, clock: str, column: str) -> float:
        hours = (pd.Timestamp(f"2021-08-{day:02d}T{clock}:00+04:30") - START).total_seconds() / 3600
        return float(np.interp(hours, mean.index.to_numpy(), mean[column].to_numpy()))

    return at


def daily(at: Reader) -> list[str]:
    """The ten 24-hour figures, model beside record, and the goal's two errors."""
    out = ["24 h to 11:30   all (published)    US military (published)   flights (published US + coalition)"]
    errors = []

    def flown(column: str, day: int) -> float:
        return at(day, "11:30", column) - at(day - 1, "11:30", column)

    for day, (total, us, us_flights, coalition) in DAILY.items():
        model_all, model_us = flown("evacuated_cumulative", day), flown("evacuated_cumulative.us", day)
        errors.append(abs(model_all - total) / total)
        us_text = f"{model_us:7,.0f} ({us:,})" if us else f"{model_us:7,.0f} (-)"
        out.append(
            f"  {day} Aug     {model_all:7,.0f} ({total:,})   {us_text:>24}   "
            f"{flown('departures_cumulative', day):4.0f} ({us_flights} + {coalition})"
        )
    charters = sum(flown(f"evacuated_cumulative.{op}", 21) for op in ("us", "others"))
    out.append(f"  21 Aug on the published basis (US military and charters, the fleet 'others'): {charters:,.0f}")
    peak = (at(24, "11:30", "evacuated_cumulative") - at(23, "11:30", "evacuated_cumulative")) / DAILY[24][0] - 1
    on_basis = np.mean([abs(charters - DAILY[21][0]) / DAILY[21][0], *errors[1:]])
    out.append(f"  mean |error| 21-30 Aug: {np.mean(errors):.0%}, {on_basis:.0%} with 21 Aug on its basis (goal 20%)")
    out.append(f"  24 Aug peak: {peak:+.0%} (goal 15%)")
    return out


def totals(at: Reader) -> list[str]:
    """Running totals since 14 Aug 11:30 (also with coalition counted from 21 Aug 11:30) and the airfield."""
    out = ["running totals since 14 Aug 11:30        model   model, coalition from 21 Aug   published"]
    us_by_21 = at(21, "11:30", "evacuated_cumulative.us") - at(14, "11:30", "evacuated_cumulative.us")
    for day, clock, suffix, value in RUNNING:
        column = "evacuated_cumulative" + suffix
        model = at(day, clock, column) - at(14, "11:30", column)
        basis = f"{us_by_21 + at(day, clock, column) - at(21, '11:30', column):,.0f}" if not suffix and day > 21 else "-"
        out.append(f"  {day} Aug {clock} {'US military' if suffix else 'all':12} {model:12,.0f} {basis:>30}   {value:,}")
    out.append("people on the airfield at noon")
    out += [f"  {day} Aug   {at(day, '12:00', 'airfield_people'):7,.0f}   ({text})" for day, text in AIRFIELD]
    return out


def daily_by_replication(folder: Path) -> pd.DataFrame:
    """People flown in each published 24 hours (rows: days of August), one column per replication;
    21 Aug on its published basis (US military and charters, the fleet 'others')."""
    table = pd.read_csv(folder / "timeseries.csv")
    out = {}
    for r, run in table.groupby("replication"):
        hours = run["hours"].to_numpy()

        def at(day: int, column: str, hours: np.ndarray = hours, run: pd.DataFrame = run) -> float:
            h = (pd.Timestamp(f"2021-08-{day:02d}T11:30:00+04:30") - START).total_seconds() / 3600
            return float(np.interp(h, hours, run[column].to_numpy()))

        flown = {day: at(day, "evacuated_cumulative") - at(day - 1, "evacuated_cumulative") for day in DAILY}
        flown[21] = sum(at(21, f"evacuated_cumulative.{op}") - at(20, f"evacuated_cumulative.{op}") for op in ("us", "others"))
        out[r] = flown
    return pd.DataFrame(out)


def bands(folder: Path, days: range) -> list[str]:
    """Across replications (with ``--ensemble``, across plausible settings): each day's mean and
    5-95% band beside the record, whether the record is inside, the mean error and the peak's."""
    flown = daily_by_replication(folder).loc[list(days)]
    mean, low, high = flown.mean(axis=1), flown.quantile(0.05, axis=1), flown.quantile(0.95, axis=1)
    out = [f"24 h to 11:30   mean   5-95% of {flown.shape[1]} replications   published   inside"]
    inside = 0
    for day in days:
        record = DAILY[day][0]
        hit = low[day] <= record <= high[day]
        inside += hit
        band = f"{low[day]:7,.0f} to {high[day]:7,.0f}"
        out.append(f"  {day} Aug   {mean[day]:7,.0f}   {band}   {record:9,}   {'yes' if hit else 'no'}")
    errors = [abs(mean[d] - DAILY[d][0]) / DAILY[d][0] for d in days]
    out.append(f"  record inside the band on {inside} of {len(days)} days; mean |error| of the mean {np.mean(errors):.0%}")
    if 24 in days:
        out.append(f"  24 Aug peak: mean {mean[24] / DAILY[24][0] - 1:+.0%}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="folders written by `airlift run` on the Kabul scenario")
    ap.add_argument("--bands", metavar="FIRST:LAST", help="also the band across replications, days FIRST to LAST of August")
    args = ap.parse_args()
    for folder in args.runs:
        at = reader(folder)
        print(f"== {folder}")
        print("\n".join(daily(at) + totals(at)))
        if args.bands:
            first, last = (int(x) for x in args.bands.split(":"))
            print("\n".join(bands(folder, range(first, last + 1))))


if __name__ == "__main__":
    main()
