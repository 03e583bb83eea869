"""The ``airlift`` command line: one module per command, shared parent parsers, argument checks as ``type=`` callables."""
