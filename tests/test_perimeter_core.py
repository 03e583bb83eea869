"""The perimeter's compiled loop: the plain-Python path (``NUMBA_DISABLE_JIT=1``) gives the same run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import DATA

CHILD = r"""
import json, sys
import sim
from sim.experiment import run_replication
s = sim.load_scenario(sys.argv[1])
out = run_replication(s, 5, 0)
print(json.dumps({"metrics": out["metrics"], "queue": [float(x) for x in out["hourly"]["gate_queue_people"]]}))
"""


def _run(jit: bool) -> dict[str, object]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="0" if jit else "1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(DATA / "small.toml")], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_plain_python_path_gives_the_same_run_as_the_compiled_one() -> None:
    compiled, plain = _run(jit=True), _run(jit=False)
    assert compiled == plain
