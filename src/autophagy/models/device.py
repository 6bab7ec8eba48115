"""The device the neural models (diffusion, GAN, GPT, pretrained LM, image classifier) run on.

:func:`default_device` is CUDA when torch sees a GPU and the CPU otherwise; the environment
variable ``AUTOPHAGY_DEVICE`` overrides it (``cpu``, ``cuda``, ``cuda:1`` ...; empty or
``auto`` keeps the default). Random numbers are drawn on the CPU and then moved, and weights
are saved as CPU numpy arrays, so a checkpoint loads on either device.
"""

from __future__ import annotations

import os

import torch

ENV = "AUTOPHAGY_DEVICE"


def default_device() -> torch.device:
    """``cuda`` when ``torch.cuda.is_available()``, else ``cpu``; ``$AUTOPHAGY_DEVICE`` overrides.

    ``AUTOPHAGY_DEVICE`` takes any torch device string (``cpu``, ``cuda``, ``cuda:1``, ``mps``);
    unset, empty or ``auto`` means the default. An unparsable value, or a CUDA device that
    torch cannot see, raises ``ValueError`` naming the variable.
    """
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(value.lower())
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"{ENV}={value!r} is not a torch device (expected e.g. cpu, cuda, cuda:0 or auto)") from error
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{ENV}={value!r} asks for CUDA, but torch sees no CUDA device")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"{ENV}={value!r}: torch sees only {torch.cuda.device_count()} CUDA device(s)")
    return device
