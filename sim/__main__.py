"""``python -m sim`` is the ``airlift`` command."""

from sim.cli.main import entry

entry()
