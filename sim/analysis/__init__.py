"""Questions asked of many runs: the capacity curve of a sweep, sensitivity analysis, calibration to the
published record by history matching, and planning (the least that meets a goal with a stated probability)."""
