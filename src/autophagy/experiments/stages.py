"""Experiments made of several runs (the mitigation sweeps, the arena), one *stage* per run.

A stage is ``(labels, run)``: ``run()`` returns a tidy frame, ``labels`` (a dict) become its
leading columns. With a run directory each finished stage is saved (rows and manifest, as a
loop saves generations), so an interrupted sweep resumes at the first unfinished stage.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from ..params import ParameterError

Stage = tuple[dict[str, Any], Callable[[], pd.DataFrame]]


def run_stages(stages: list[Stage], store=None, progress: bool = True, description: str = "stages") -> pd.DataFrame:
    """Every stage's frame, labelled, one after the other (finished stages are not rerun)."""
    saved = store.resume() if store is not None else None
    done, frames = (saved[0], [saved[1]]) if saved is not None else (0, [])
    for number in tqdm(range(done + 1, len(stages) + 1), desc=description, unit="run",
                       disable=not progress, leave=False):
        labels, run = stages[number - 1]
        frame = run()
        frame = pd.concat([pd.DataFrame(labels, index=frame.index), frame], axis=1)
        if store is not None:
            block = {column: frame[column].to_numpy() for column in frame.columns}
            store.checkpoint(number, [block], dict, final=number == len(stages))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def sub_config(name: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The resolved parameters of experiment ``name`` (its default profile, then ``overrides``),
    checked: resolve every stage before running one, so bad input stops before anything is written."""
    from ..runner import resolve_config

    try:
        return resolve_config(name, **overrides)[1]["params"]
    except ParameterError as err:
        raise ParameterError(f"{name}: {err}") from None
