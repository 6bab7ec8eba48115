"""autophagy: self-consuming generative loops (model collapse), one loop for every modality.

>>> from autophagy import run
>>> history = run("gaussian", profile="smoke", progress=False)
"""

__version__ = "0.1.0"

from .runner import run  # noqa: E402,F401
from .params import ParameterError  # noqa: E402,F401
from .sweep import sweep  # noqa: E402,F401
