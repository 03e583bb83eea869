"""Many replications: one task engine (bounded in flight, failures captured, a resumable sink), the
executors it runs on (serial, local processes, Dask with deadlines), run, compare, sweeps and ensembles of
plausible settings, paired by replication index (common random numbers)."""
