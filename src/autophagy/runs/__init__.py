"""Running experiments: the run directory and its records, the grid runner, the cluster, ``run()``.

:mod:`.folder` is the locked, crash-safe folder a run directory (:mod:`.store`) and a sweep
directory are; :mod:`.history` reads a run's records back; :mod:`.grid` runs lists of runs
(a sweep's cells, a staged experiment's stages, the threshold's grid) here or on the Dask
cluster of :mod:`.cluster`, the same way; :mod:`.runner` runs a named experiment. The loop
itself (:mod:`autophagy.engine`) knows none of this.
"""
