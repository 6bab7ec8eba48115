"""Tidy per-generation records of a run, with the summaries the book and the CLI print."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

KEY_DOCS = {
    "generation": "0 is the truth, 1 the model fitted on real data",
    "replicate": "which independent repetition",
    "train_size": "samples in the generation's training set",
    "real_share": "share of them that are real",
    "real_drawn": "real samples drawn for it, those a screen dropped included",
}
KEYS = tuple(KEY_DOCS)


@dataclass
class History:
    """A run's records (``frame``: one row per generation and replicate), its config and,
    for a saved run, its directory (where sample files are)."""

    frame: pd.DataFrame
    config: dict[str, Any]
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> History:
        """The run saved in folder ``path``: only the rows that its manifest vouches for
        (metrics.parquet, or an unfinished run's metrics.arrows; length and SHA-256). A
        damaged run raises ValueError (OSError when a file cannot be read)."""
        from .store import read_records

        path = Path(path)
        try:
            config = json.loads((path / "config.json").read_text())
        except ValueError as err:
            raise ValueError(f"config.json is not valid JSON ({err})") from None
        if not isinstance(config, dict):
            raise ValueError("config.json does not hold a configuration")
        return cls(read_records(path), config, path)

    def problem(self) -> str | None:
        """Why this history cannot be summarised (a damaged run), or None."""
        config = self.config
        if not isinstance(config.get("params"), dict) or not {"experiment", "profile", "seed"} <= set(config):
            return "config.json lacks the experiment, profile, seed or params"
        if not isinstance(config.get("stage_columns", []), list):
            return "config.json has invalid stage_columns"
        missing = [c for c in ["generation", "replicate", *self.stage_columns] if c not in self.frame.columns]
        if missing:
            return f"the records lack the column {missing[0]!r}"
        if self.frame.empty:
            return "the records hold no rows"
        odd = [c for c in ["generation", *self.metrics] if not pd.api.types.is_numeric_dtype(self.frame[c])]
        if odd:
            return f"the records' column {odd[0]!r} is not numeric"
        return None

    @property
    def params(self) -> dict[str, Any]:
        """The run's resolved parameters (``config["params"]``)."""
        return self.config["params"]

    @property
    def stage_columns(self) -> list[str]:
        """Columns that name a stage of a sweep or of the arena (empty for a single loop)."""
        return list(self.config.get("stage_columns", []))

    @property
    def metrics(self) -> list[str]:
        """Names of the experiment's metric columns."""
        return [c for c in self.frame.columns if c not in KEYS and c not in self.stage_columns]

    @property
    def generations(self) -> np.ndarray:
        return np.sort(self.frame["generation"].unique())

    def thinned(self, most: int) -> History:
        """This history with the rows of at most ``most`` generations, evenly spaced, the first
        and the last kept (itself when it has no more)."""
        generations = self.generations
        if len(generations) <= most:
            return self
        keep = generations[np.unique(np.linspace(0, len(generations) - 1, most).round().astype(int))]
        wanted = np.zeros(generations[-1] + 1, dtype=bool)
        wanted[keep] = True
        frame = self.frame[wanted[self.frame["generation"].to_numpy()]].reset_index(drop=True)
        return History(frame, self.config, self.path)

    def wide(self, metric: str) -> pd.DataFrame:
        """``metric`` as a generation x replicate table."""
        return self.frame.pivot(index="generation", columns="replicate", values=metric)

    def quantiles(self, metric: str, qs: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
        """Quantiles of ``metric`` across replicates, one row per generation."""
        columns = [f"q{q:g}" for q in qs]
        generation = self.frame["generation"].to_numpy()
        starts = np.flatnonzero(np.r_[True, generation[1:] != generation[:-1]])
        rows = len(generation) // max(len(starts), 1)
        if (
            len(starts)
            and (np.diff(generation[starts]) > 0).all()
            and (starts == np.arange(len(starts)) * rows).all()
            and rows * len(starts) == len(generation)
        ):  # a loop's record: generations in order, equal blocks
            values = self.frame[metric].to_numpy(dtype=float).reshape(len(starts), rows)
            with warnings.catch_warnings():  # a generation with no value has NaN quantiles, as in pandas
                warnings.simplefilter("ignore", RuntimeWarning)
                found = (np.nanquantile if np.isnan(values).any() else np.quantile)(values, qs, axis=1)
            return pd.DataFrame(found.T, index=pd.Index(generation[starts], name="generation"), columns=columns)
        out = self.frame.groupby("generation")[metric].quantile(list(qs)).unstack()
        out.columns = columns
        return out

    def at(self, generation: int) -> pd.DataFrame:
        """The rows of one generation."""
        return self.frame[self.frame["generation"] == generation]

    def summary(self, rows: int = 6) -> pd.DataFrame:
        """Mean and median of every metric across replicates at a few generations (for each
        stage of a sweep)."""
        gens = self.generations
        picked = np.unique(np.round(np.linspace(0, len(gens) - 1, min(rows, len(gens)))).astype(int))
        chosen = self.frame[self.frame["generation"].isin(gens[picked])]
        groups = chosen.groupby(self.stage_columns + ["generation"], sort=False)
        table = groups[self.metrics].agg(["mean", "median"])
        table.columns = [f"{m} {stat}" for m, stat in table.columns]
        table.insert(0, "replicates", groups.size())
        return table
