"""The command line's shape: options shared by several commands come from one parent parser each, and
argument checks (argparse ``type=``) refuse a bad value with exit 2 before any command runs."""

from __future__ import annotations

import argparse
import math

import pytest

from sim.cli import arguments, calibrate, compare, run, sensitivity, sweep
from sim.cli.main import COMMANDS, build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def _actions(option: str) -> dict[str, argparse.Action]:
    """``{command: its action}`` for every command that takes ``option``."""
    return {name: p._option_string_actions[option] for name, p in _commands().items() if option in p._option_string_actions}


SHARED = {
    "--workers": {"run", "sweep", "sensitivity", "compare", "plan", "calibrate", "explain"},
    "--dask": {"run", "sweep", "sensitivity", "compare", "plan", "calibrate", "explain"},
    "--out": {"run", "sweep", "sensitivity", "compare", "plan", "calibrate", "explain"},
    "--no-plots": {"run", "sweep", "sensitivity", "compare", "plan", "explain"},
    "--format": {"run", "sweep", "compare"},
    "--ensemble": {"run", "sweep", "compare", "plan", "explain"},
    "--report": {"run", "sweep", "compare", "plan", "explain"},
    "--resume": {"sweep", "sensitivity", "calibrate"},
    "--metric": {"sweep", "sensitivity"},
    "--set": {"run", "sweep", "plan", "calibrate", "explain"},
}


@pytest.mark.parametrize(("option", "commands"), SHARED.items())
def test_a_shared_option_is_one_action_in_every_command_that_takes_it(option, commands):
    actions = _actions(option)
    assert set(actions) == commands
    assert len({id(a) for a in actions.values()}) == 1, option


def test_seed_and_replications_are_shared_by_the_commands_with_the_same_default():
    seeds = _actions("--seed")
    assert set(seeds) == {"run", "sweep", "sensitivity", "compare", "plan", "calibrate", "explain"}
    assert seeds["run"] is seeds["compare"] is seeds["sensitivity"] is seeds["calibrate"] is seeds["plan"] is seeds["explain"]
    assert seeds["run"].default == 0 and seeds["sweep"].default is None  # a sweep file's seed applies
    assert {a.type for a in seeds.values()} == {arguments.seed}
    replications = _actions("-n")
    assert replications["run"] is replications["compare"] and replications["run"].default == 10
    assert {a.type for a in replications.values()} == {arguments.at_least_one}
    assert {a.option_strings[0] for a in replications.values()} == {"--replications"}


def test_every_option_of_several_commands_has_one_meaning():
    """An option that several commands take has the same check, choices and metavar everywhere
    (``--vary`` and ``--samples`` of a sweep mean something else than in sensitivity and calibrate)."""
    seen: dict[str, set[tuple[object, ...]]] = {}
    for name, parser in _commands().items():
        for option, action in parser._option_string_actions.items():
            if option in ("-h", "--help") or (name == "sweep" and option in ("--vary", "--samples")):
                continue
            seen.setdefault(option, set()).add((action.type, action.choices and tuple(action.choices), action.metavar))
    assert {option: shapes for option, shapes in seen.items() if len(shapes) > 1} == {}


def test_every_command_has_its_module():
    assert [c.__name__.rsplit(".", 1)[1] for c in COMMANDS] == list(_commands())
    for module in COMMANDS:
        assert _commands()[module.__name__.rsplit(".", 1)[1]].get_default("func") is module.cmd


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "-n", "0"], "argument --replications/-n: must be at least 1"),
        (["run", "-n", "two"], "argument --replications/-n: invalid int value: 'two'"),
        (["run", "--seed", "-1"], "argument --seed: must be a whole number from 0 to 2**63 - 1"),
        (["run", "--seed", str(2**63)], "argument --seed: must be a whole number from 0 to 2**63 - 1"),
        (["run", "--precision", "1"], "argument --precision: must be a fraction between 0 and 1"),
        (["run", "--precision", "nan"], "argument --precision: must be a fraction between 0 and 1"),
        (["run", "--max-replications", "0"], "argument --max-replications: must be at least 1"),
        (["compare", "a.toml", "--workers", "0"], "argument --workers: must be at least 1"),
        (["sweep", "--vary", "security.end=1,2", "--samples", "0"], "argument --samples: must be at least 1"),
        (["sensitivity", "--trajectories", "0"], "argument --trajectories: must be at least 1"),
        (["calibrate", "--waves", "0"], "argument --waves: must be at least 1"),
        (["run", "--ensemble", "no_such_ensemble.csv"], "argument --ensemble: no_such_ensemble.csv: file not found"),
        (["calibrate", "--targets", "no_such_targets.toml"], "argument --targets: no_such_targets.toml: file not found"),
    ],
)
def test_a_bad_value_is_exit_2_naming_the_argument_before_anything_runs(argv, named, monkeypatch, capsys):
    for module in (run, compare, sweep, sensitivity, calibrate):
        monkeypatch.setattr(module, "cmd", _never)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert named in err and err.count("error:") == 1 and "Traceback" not in err


def test_an_output_folder_that_is_a_file_is_refused_by_its_check(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "cmd", _never)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["run", "--out", str(a_file)]) == 2
    assert f"argument --out: {a_file}: exists and is not a folder" in capsys.readouterr().err
    assert build_parser().parse_args(["run", "--out", str(tmp_path / "new" / "dir")]).out == tmp_path / "new" / "dir"


def test_the_checks_accept_their_bounds():
    assert arguments.seed("0") == 0 and arguments.seed(str(2**63 - 1)) == 2**63 - 1
    assert arguments.at_least_one("1") == 1
    assert math.isclose(arguments.fraction("0.05"), 0.05)
    for bad in ("0", "1", "-0.5", "inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            arguments.fraction(bad)
    args = build_parser().parse_args(["sweep", "--vary", "security.end=1,2"])
    assert args.seed is None and args.replications is None  # left to the sweep file or the sweep's defaults


def _never(args: argparse.Namespace) -> int:
    raise AssertionError(f"the command ran: {args}")
