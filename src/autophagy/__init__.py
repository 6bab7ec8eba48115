"""autophagy: self-consuming generative loops (model collapse), one loop for every modality.

>>> from autophagy import run
>>> history = run("gaussian", profile="smoke", progress=False)

To plug in a model of your own, build the loop yourself:

>>> from autophagy import LoopSettings, LoopSpec, Step, run_loop

(the model protocol is in :mod:`autophagy.engine.loop`; README.md's "Bring your own model"
has a complete example). These names are imported when first used, so that the command line
starts without loading every experiment (and a Ctrl-C while it starts is one line).
"""

__version__ = "0.1.0"

_PUBLIC = {
    "run": "runs.runner",
    "sweep": "sweeps",
    "ParameterError": "params",
    "LoopSpec": "engine.loop",
    "LoopSettings": "engine.loop",
    "run_loop": "engine.loop",
    "Step": "engine.step",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        from importlib import import_module

        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autophagy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
