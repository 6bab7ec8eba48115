"""The memory limit: a configuration whose data would not fit is refused before any work."""

from __future__ import annotations

from typing import Any

from ..params import ParameterError

MEMORY_LIMIT_BYTES = 4 * 2**30


def check_memory(experiment, params: dict[str, Any]) -> None:
    """Refuse, before any work, a configuration whose data would not fit the limit."""
    if experiment.memory_bytes is None:
        return
    need = experiment.memory_bytes(params)
    need += (
        8.0 * 2 * (5 + len(experiment.columns)) * params.get("replicates", 1) * (params.get("generations", 0) + 1)
    )  # the records (float64 columns, concatenated once)
    if need > MEMORY_LIMIT_BYTES:
        raise ParameterError(
            f"this run would hold about {need / 2**30:.1f} GiB of data (limit "
            f"{MEMORY_LIMIT_BYTES / 2**30:.0f} GiB): lower replicates, samples or generations"
        )
