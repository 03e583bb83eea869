"""Results on disk and on paper: output folders that are whole or absent, one writer at a time (locks),
atomic files with their digests, and the figures of runs, comparisons, sweeps, sensitivity analyses and
plans. Draws and writes tables it is given; runs nothing and knows nothing of the model."""
