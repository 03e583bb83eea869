"""The outcome of a calibration: which simulated settings are plausible, why not when none is,
and the files ``ensemble.csv``, ``runs.csv``, ``emulator_validation.csv``, ``calibration.json``
and the two plots.

A setting is plausible when its replication means are within the cut-off of every target, with
the variance of the observation (and the model discrepancy), of one replication (the published
figure is one realisation) and of the estimated mean. Plots are matplotlib figures built without
pyplot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.analysis import history_matching as hm
from sim.description.uncertainty import Parameter
from sim.experiments.identity import plain

__all__ = ["Calibration", "summarise", "simulated_implausibility", "parameter_figure", "target_figure"]


@dataclass
class Calibration:
    """What ``calibrate`` found: the plausible settings and the diagnostics of ``calibration.json``."""

    consistent: bool
    ensemble: list[dict[str, Any]]
    report: dict[str, Any]
    runs: Any  # pandas.DataFrame: one row per simulated point (means, implausibility)


# long: every output file of a calibration, in the order they depend on each other
def summarise(
    out: Path,
    definition: dict[str, Any],
    params: Sequence[Parameter],
    obs: Sequence[hm.Observation],
    runs: Any,
    u_all: np.ndarray,
    means: Any,
    v_stoch: np.ndarray,
    emulators: Callable[[], list[hm.Emulator]],
    extra: dict[str, Any],
    seed: int,
    command: str | None,
) -> Calibration:
    """Find the plausible settings among the simulated points and write every output file.

    The ensemble is the settings of the final sample (stage ``extra["ensemble_from"]``) whose
    simulated means pass every target; if none does, the plausible points of the waves (said so).
    ``emulators()`` fits the final emulators over all runs; it is called only when no setting is
    plausible, to explain the conflicts."""
    import pandas as pd

    from sim.outputs.files import atomic_write, save_png, write_json

    names, keys = [o.name for o in obs], [p.name for p in params]
    y = means[names].to_numpy(dtype=float)
    imp, table = _judged(runs, keys, names, y, obs, v_stoch)
    plausible = table["plausible"].to_numpy(dtype=bool)
    atomic_write(out / "runs.csv", lambda fh: table.to_csv(fh, index=False))
    final = (table["stage"] == extra["ensemble_from"]).to_numpy(dtype=bool)
    order, source = np.flatnonzero(plausible & final), "final sample"
    if not len(order) and plausible.any():  # no confirmed sample: the waves' plausible points, spread out
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xE45]))
        idx = np.flatnonzero(plausible)
        order, source = idx[hm.spread_order(u_all[idx], len(idx), rng)], "waves (no setting of the final sample passed)"
    source = source if len(order) else "none: no setting run passes every target"
    ensemble = [{k: plain(table.iloc[i][k]) for k in keys} for i in order]
    atomic_write(out / "ensemble.csv", lambda fh: pd.DataFrame(ensemble, columns=keys).to_csv(fh, index=False))
    checks = emulator_checks(extra["stages_run"])
    atomic_write(out / "emulator_validation.csv", lambda fh: pd.DataFrame(checks).to_csv(fh, index=False))
    sampled = int(final.sum())
    warnings = prior_limit_warnings(params, ensemble)
    report: dict[str, Any] = definition | {
        "command": command,
        "consistent": bool(len(ensemble)),
        "plausible_settings": len(ensemble),
        "ensemble_source": source,
        "final_sample_settings": sampled,
        "final_sample_passed": int((plausible & final).sum()),
        "final_sample_share_passed": round(float((plausible & final).sum()) / sampled, 4) if sampled else None,
        "final_sample_rounds": sum(1 for s in extra["stages_run"] if s["stage"] == extra["ensemble_from"]),
        "emulators_validated": len(checks),
        "emulators_failed": sum(not c["passed"] for c in checks),
        "runs": int(len(runs)),
        "points": int(len(table)),
        "screening": extra["screening"],
        "stages_run": extra["stages_run"],
        "emulator_validation": checks,
        "prior_limit_warnings": warnings,
        "replication_variance": "pooled within-point variance of the replications (one replication around its mean)",
        "diagnostics": {
            "targets": _target_diagnostics(obs, y, imp, order, v_stoch),
            "parameters": _parameter_diagnostics(params, ensemble),
        },
    }
    if not len(ensemble):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0F]))
        report["conflicts"] = conflicts(imp, emulators(), obs, v_stoch, len(params), rng)
    write_json(out / "calibration.json", report)
    in_ensemble = np.zeros(len(table), dtype=bool)
    in_ensemble[order] = True
    save_png(out / "parameters.png", parameter_figure(params, table, in_ensemble))
    save_png(out / "targets.png", target_figure(obs, y, in_ensemble, v_stoch))
    return Calibration(bool(len(ensemble)), ensemble, report, table)


CHECKS = {"emulators": "leave-one-out", "emulators_held_out": "previous wave's set on this wave's runs"}
"""The validations a stage records, and what each checks."""


def emulator_checks(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per emulator check: the stage planned after it, the check, the target, the verdict."""
    return [
        {"stage": s["stage"], "check": what, "target": name, **verdict}
        for s in stages
        for key, what in CHECKS.items()
        for name, verdict in s.get(key, {}).items()
    ]


LIMIT_ZONE = 0.05
"""The part of a prior range, at either end, where a pile of settings is a warning."""


def prior_limit_warnings(params: Sequence[Parameter], ensemble: list[dict[str, Any]]) -> list[str]:
    """A sentence for each parameter whose ensemble piles at a prior limit: at least 10 settings,
    and the share in the lowest (highest) 5% of the range (for an integer, at least its lowest
    value) at least twice the prior's share there plus 0.05, so the targets push it past the range."""
    out: list[str] = []
    if len(ensemble) < 10:
        return out
    for p in params:
        values = np.array([float(e[p.name]) for e in ensemble])
        span = p.high - p.low
        if span <= 0:
            continue
        for side, edge in (("low", p.low + LIMIT_ZONE * span), ("high", p.high - LIMIT_ZONE * span)):
            pad = 0.5 if p.integer else 0.0
            if side == "low":
                edge = max(edge, p.low) if not p.integer else max(np.floor(edge), p.low)
                share, prior = float(np.mean(values <= edge)), float(p.dist().cdf(edge + pad))
            else:
                edge = min(edge, p.high) if not p.integer else min(np.ceil(edge), p.high)
                share, prior = float(np.mean(values >= edge)), float(p.dist().sf(edge - pad))
            if share >= 2 * prior + 0.05:
                limit = p.low if side == "low" else p.high
                out.append(
                    f"{p.name}: {share:.0%} of the ensemble at its {side} prior limit ({limit:g}; "
                    f"{prior:.0%} of the prior): the targets may want it beyond the declared range"
                )
    return out


def simulated_implausibility(runs: Any, y: np.ndarray, obs: Sequence[hm.Observation], v_stoch: np.ndarray) -> np.ndarray:
    """The implausibility of every simulated point (rows of ``y``: replication means, in the order
    of ``runs`` grouped by stage and point) on every target; the variance of a mean shrinks with
    its replications."""
    counts = runs.groupby(["stage_no", "point"], sort=True).size().to_numpy(dtype=float)
    return hm.implausibility(y, v_stoch[None, :] / counts[:, None], obs, v_stoch)


def _judged(
    runs: Any, keys: list[str], names: list[str], y: np.ndarray, obs: Sequence[hm.Observation], v_stoch: np.ndarray
) -> tuple[np.ndarray, Any]:
    """The implausibility of every simulated point on every target (the variance of its mean
    shrinks with its replications), and ``runs.csv``: one row per point, its stage, parameters,
    replication means, largest implausibility and whether it is plausible."""
    grouped = runs.groupby(["stage_no", "point"], sort=True)
    table = grouped[["stage", *keys]].first().reset_index().drop(columns="stage_no")
    imp = simulated_implausibility(runs, y, obs, v_stoch)
    imax = imp.max(axis=1)
    for j, n in enumerate(names):
        table[n] = y[:, j]
    table["implausibility"] = imax
    table["plausible"] = imax < hm.CUTOFF
    return imp, table


def _target_diagnostics(
    obs: Sequence[hm.Observation], y: np.ndarray, imp: np.ndarray, order: np.ndarray, v_stoch: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Per target: observed value and spreads, and what the plausible settings and all runs predict."""
    ens = y[order] if len(order) else np.zeros((0, len(obs)))
    out = {}
    for j, o in enumerate(obs):
        out[o.name] = {
            "observed": o.value,
            **({} if o.floor is None else {"min": o.floor}),
            **({} if o.ceiling is None else {"max": o.ceiling}),
            "sd": float(np.sqrt(o.variance)),
            "replication_sd": float(np.sqrt(v_stoch[j])),
            "ensemble_low": float(ens[:, j].min()) if len(ens) else None,
            "ensemble_high": float(ens[:, j].max()) if len(ens) else None,
            "ensemble_max_implausibility": float(imp[order, j].max()) if len(order) else None,
            "runs_low": float(y[:, j].min()),
            "runs_high": float(y[:, j].max()),
        }
    return out


def _parameter_diagnostics(params: Sequence[Parameter], ensemble: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per parameter: its prior range and the range of the plausible settings (``None`` if there is none)."""
    out = {}
    for p in params:
        vals = [e[p.name] for e in ensemble]
        out[p.name] = {
            "prior_low": p.low,
            "prior_high": p.high,
            "plausible_low": min(vals) if vals else None,
            "plausible_high": max(vals) if vals else None,
        }
    return out


def conflicts(
    imp: np.ndarray,
    emulators: list[hm.Emulator],
    obs: Sequence[hm.Observation],
    v_stoch: np.ndarray,
    d: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Why no setting fits: targets matched even alone by no run and no emulated candidate, pairs of
    targets each matched by some run but never by the same one, and what the best run misses."""
    from scipy.stats import qmc

    names = [o.name for o in obs]
    u = qmc.Halton(d, scramble=True, rng=rng).random(16_384)
    preds = [e.predict(u) for e in emulators]
    iem = hm.implausibility(np.column_stack([p[0] for p in preds]), np.column_stack([p[1] for p in preds]), obs, v_stoch)
    ok_sim, ok_em = imp < hm.CUTOFF, iem < hm.CUTOFF
    alone = np.asarray(ok_sim.any(axis=0) | ok_em.any(axis=0), dtype=bool)
    unreachable = [names[j] for j in range(len(names)) if not alone[j]]
    pairs = []
    for j in range(len(names)):
        for k in range(j + 1, len(names)):
            # evidence, not emulation: each matched by some run, never both by the same run
            if ok_sim[:, j].any() and ok_sim[:, k].any() and not (ok_sim[:, j] & ok_sim[:, k]).any():
                pairs.append([names[j], names[k]])
    best = int(np.argmin(imp.max(axis=1)))
    misses = {names[j]: round(float(imp[best, j]), 2) for j in np.argsort(-imp[best]) if imp[best, j] >= hm.CUTOFF}
    return {"unreachable": unreachable, "incompatible_pairs": pairs, "best_run_misses": misses}


def parameter_figure(params: Sequence[Parameter], table: Any, plausible: np.ndarray) -> Figure:
    """Each parameter's prior range (grey) against the plausible settings (blue), on the prior's scale."""
    row_in, font = (0.45, 8) if len(params) <= 30 else (0.2, 6.5)  # a whole [uncertain] table stays readable
    fig = Figure(figsize=(8.5, row_in * len(params) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    for i, p in enumerate(params):
        span = (p.high - p.low) or 1.0
        x = (table[p.name].to_numpy(dtype=float) - p.low) / span
        ax.barh(i, 1.0, left=0.0, height=0.6, color="#dddddd")
        ax.scatter(x[~plausible], np.full((~plausible).sum(), i), s=8, color="#999999", zorder=2)
        if plausible.any():
            lo, hi = x[plausible].min(), x[plausible].max()
            ax.barh(i, max(hi - lo, 0.004), left=lo, height=0.6, color="#4a90c2", alpha=0.45, zorder=1)
            ax.scatter(x[plausible], np.full(plausible.sum(), i), s=14, color="#1f5f8b", zorder=3)
    ax.set_yticks(range(len(params)), [f"{p.name}  [{p.low:g}, {p.high:g}]" for p in params], fontsize=font)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("position within the prior range (0 = low, 1 = high)")
    ax.set_ylim(len(params) - 0.5, -0.5)
    ax.set_title(f"prior range (grey) and plausible settings (blue)\n{int(plausible.sum())} of {len(plausible)} points run")
    return fig


def target_figure(obs: Sequence[hm.Observation], y: np.ndarray, plausible: np.ndarray, v_stoch: np.ndarray) -> Figure:
    """Each target: runs' means (grey) and the plausible settings' (blue) against the observed value,
    in standard deviations of the observation; the band is the cut-off with replication noise."""
    fig = Figure(figsize=(8.5, 0.45 * len(obs) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    lim = 8.0
    for j, o in enumerate(obs):
        sd, left, right = _figure_scale(o, float(v_stoch[j]), lim)
        ax.barh(j, right - left, left=left, height=0.6, color="#e7f0e0")
        z = np.clip((y[:, j] - o.value) / sd, -lim, lim)
        ax.scatter(z[~plausible], np.full((~plausible).sum(), j), s=8, color="#999999")
        ax.scatter(z[plausible], np.full(plausible.sum(), j), s=14, color="#1f5f8b", zorder=3)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(range(len(obs)), [f"{o.name}  {_observed_text(o)}" for o in obs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-lim - 0.3, lim + 0.3)
    ax.set_xlabel(f"(run mean - observed) / sd of the observation, clipped at ±{lim:g}; green: I < {hm.CUTOFF:g}")
    ax.set_title("targets: all runs (grey) and plausible settings (blue)")
    return fig


def _figure_scale(o: hm.Observation, v_stoch: float, lim: float) -> tuple[float, float, float]:
    """A target's row of the figure: its unit (the observation's sd; with none, e.g. a bare bound,
    the replication's, else 1) and the band of values within the cut-off, from the observed value
    (a bound's band is open on its inside)."""
    sd = float(np.sqrt(o.variance)) or float(np.sqrt(v_stoch)) or 1.0
    band = hm.CUTOFF * float(np.sqrt(o.variance + v_stoch)) / sd
    if o.floor is None and o.ceiling is None:
        return sd, -band, band
    left = -band if o.floor is not None else -lim
    right = (o.ceiling - o.value) / sd + band if o.ceiling is not None else lim
    return sd, left, min(right, lim)


def _observed_text(o: hm.Observation) -> str:
    """The observation as the figure labels it: ``value ± sd``, or its bounds."""
    spread = f" ± {np.sqrt(o.variance):,.0f}" if o.variance > 0 else ""
    if o.floor is None and o.ceiling is None:
        return f"{o.value:,.0f}{spread}"
    bounds = [f"≥ {o.floor:,.0f}" if o.floor is not None else "", f"≤ {o.ceiling:,.0f}" if o.ceiling is not None else ""]
    return " ".join(b for b in bounds if b) + spread
