"""The three settings every experiment has, chosen by one word.

- ``smoke``: seconds, for CI and for checking that a chapter runs;
- ``default``: minutes on a 2-core laptop CPU (``make book``, Binder);
- ``full``: the literature's scale, for a GPU.

Each experiment declares what a profile sets (see ``Experiment.profiles``);
:func:`table` collects them for the documentation.
"""

from __future__ import annotations

import pandas as pd

from .params import ParameterError

PROFILES = ("smoke", "default", "full")


def check_profile(profile: str) -> str:
    """``profile`` if it is one of :data:`PROFILES`, else a :class:`ParameterError`."""
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}")
    return profile


def table() -> pd.DataFrame:
    """Every experiment's profile settings, one row per (experiment, profile)."""
    from .experiments import registry

    rows = []
    for exp in registry.all_experiments():
        for profile in PROFILES:
            values = exp.profiles.get(profile, {})
            rows.append({"experiment": exp.name, "profile": profile,
                         "settings": ", ".join(f"{k}={v}" for k, v in values.items())})
    return pd.DataFrame(rows)
