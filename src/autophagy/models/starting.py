"""Where a neural model's fit begins, given its starting model and its warm-start setting."""

from __future__ import annotations


def begin_fit(model) -> str:
    """Prepare ``model`` (with ``pretrained``, ``warm_start``, ``fits`` and ``start_from``) for
    its next fit and say how it trains: ``"given"`` (generation 1 is the starting model
    itself: no training), ``"warm"`` (fine-tune the current weights, which are the starting
    model's when it retrains from them) or ``"cold"`` (the caller initialises new weights)."""
    warm = model.warm_start and model.fits > 0
    if model.pretrained is None or warm:
        return "warm" if warm else "cold"
    model.start_from(model.pretrained)
    return "given" if model.fits == 0 else "warm"
