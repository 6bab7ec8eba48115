"""Numbers from a run into the book's prose (myst-nb glue), as plain Python values."""

from __future__ import annotations

from typing import Any

import numpy as np


def glue(name: str, value: Any) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`` in the text (nothing is displayed).

    numpy scalars become Python numbers, whose repr myst-nb can format (``:.3f``).
    """
    from myst_nb import glue as _glue

    if isinstance(value, np.generic):
        value = value.item()
    _glue(name, value, display=False)
