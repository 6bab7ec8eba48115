"""Hugging Face models loaded from the offline packages: never the network, and no progress bar
for a load that takes a moment (the command line's ``--quiet`` means quiet)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def offline() -> None:
    """The Hugging Face libraries read only local files from now on (set before they read it)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Within: transformers draws no bar while it loads a model's weights."""
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            logging.enable_progress_bar()
