"""How a neural model starts: its typed settings, the shipped weights it may start from, and
where each fit begins.

An architecture (the settings that shape the weights) and the training settings of each
network are frozen dataclasses of :class:`Settings`, built from an experiment's parameters by
:meth:`Settings.from_params`. :func:`network` is the one path from a run's parameters to the
network it trains: the shipped starting model's architecture and weights (after checking the
parameters against its card), or a fresh architecture.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Self

import numpy as np

from .. import weights
from ..engine.step import Step
from ..params import ParameterError


class Settings:
    """A frozen dataclass of a network's settings, each field named as the experiments' parameter."""

    @classmethod
    def from_params(cls, params: dict[str, Any], **derived: Any) -> Self:
        """The fields ``params`` name (the others keep their defaults), then ``derived`` over them."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in params.items() if k in names}, **derived})


def network(
    name: str, kind: type[Settings], params: dict[str, Any], **derived: Any
) -> tuple[Settings, dict[str, np.ndarray] | None]:
    """The architecture (a ``kind``) of the network ``params`` ask for, and its starting weights.

    With ``params["pretrained"]``: the card's architecture of the shipped model ``name`` and its
    weights, after checking that every field ``params`` sets agrees with the card (one
    ParameterError line otherwise). Without: ``kind.from_params(params, **derived)`` and None."""
    if not params["pretrained"]:
        return kind.from_params(params, **derived), None
    shipped = kind(**weights.card(name)["architecture"])
    for key, value in dataclasses.asdict(shipped).items():
        if key in params and params[key] != value:
            raise ParameterError(
                f"{key}={params[key]} differs from the starting model's {key}={value}: "
                f"keep it, or set pretrained=false to train another network from scratch"
            )
    return shipped, weights.load(name)


def begin_fit(model, step: Step) -> str:
    """Prepare ``model`` (with ``pretrained``, ``warm_start`` and ``start_from``) for its fit at
    ``step`` and say how it trains: ``"given"`` (the first step is the starting model itself:
    no training), ``"warm"`` (fine-tune the current weights, which are the starting model's
    when it retrains from them) or ``"cold"`` (the caller initialises new weights)."""
    warm = model.warm_start and not step.first
    if model.pretrained is None or warm:
        return "warm" if warm else "cold"
    model.start_from(model.pretrained)
    return "given" if step.first else "warm"
