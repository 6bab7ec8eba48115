"""Where a neural model's fit begins, given its starting model and its warm-start setting."""

from __future__ import annotations

from ..engine.step import Step


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
