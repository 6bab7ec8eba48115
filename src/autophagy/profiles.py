"""The three settings every experiment has, chosen by one word.

- ``smoke``: seconds, for CI and for checking that a chapter runs;
- ``default``: minutes on a 2-core laptop CPU (``make book``, Binder);
- ``full``: the literature's scale, for a GPU.

Each experiment declares what a profile sets (``Experiment.profiles``), the one place a
profile's sizes are kept.
"""

from __future__ import annotations

from .params import ParameterError

PROFILES = ("smoke", "default", "full")


def check_profile(profile: str) -> str:
    """``profile`` if it is one of :data:`PROFILES`, else a :class:`ParameterError`."""
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}")
    return profile
