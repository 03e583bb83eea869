"""``python -m sim`` is the ``airlift`` command."""

from sim.cli import entry

entry()
