"""The device the neural models (diffusion, GAN, GPT, pretrained LM, image classifier) run on.

:func:`default_device` is CUDA when torch sees a GPU and the CPU otherwise; the environment
variable ``AUTOPHAGY_DEVICE`` overrides it (``cpu``, ``cuda``, ``cuda:1`` ...; empty or
``auto`` keeps the default). Random numbers are drawn on the CPU and then moved, and weights
are saved as CPU numpy arrays, so a checkpoint loads on either device.

The first call also sets torch's CPU threads: ``AUTOPHAGY_THREADS`` of them, 1 by default
(on a shared 2-core machine torch's default of one thread per core ran about 3x slower than
one thread; sweeps get their parallelism from worker processes instead).
"""

from __future__ import annotations

import os

import torch

ENV = "AUTOPHAGY_DEVICE"
THREADS_ENV = "AUTOPHAGY_THREADS"
_threads_set = False


def _set_threads() -> None:
    global _threads_set
    if _threads_set:
        return
    value = os.environ.get(THREADS_ENV, "1").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV}={value!r} is not a positive number of threads")
    torch.set_num_threads(int(value))
    _threads_set = True


def default_device() -> torch.device:
    """``cuda`` when ``torch.cuda.is_available()``, else ``cpu``; ``$AUTOPHAGY_DEVICE`` overrides.

    ``AUTOPHAGY_DEVICE`` takes any torch device string (``cpu``, ``cuda``, ``cuda:1``, ``mps``);
    unset, empty or ``auto`` means the default. An unparsable value, or a CUDA device that
    torch cannot see, raises ``ValueError`` naming the variable.
    """
    _set_threads()
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


def describe() -> str:
    """The hardware the neural models run on, in words (for cards and records): the GPU's
    name, or the CPU with its core count and torch's thread count."""
    import platform

    device = default_device()
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    return (
        f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch thread(s)"
    )
