"""What a scenario says, checked before anything runs: the schema in rooms (airport, fleets, evacuees,
disruptions, targets, ranges), TOML loading with ``extends``, dotted overrides, the key table, the metric
catalogue, declared uncertainty and planning goals. Imports no SimPy: describing never starts the engine."""
