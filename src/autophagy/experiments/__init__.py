"""Named experiments (a registry): importing this package registers every one of them."""

# the imports register the experiments: kept in this order, one line and comment per group
# isort: skip_file
from . import gaussian  # noqa: F401  (registers)
from . import categorical, gmm, kde, logistic, rare_class, regression  # noqa: F401  (register)
from . import text  # noqa: F401  (registers)
from . import images  # noqa: F401  (registers mnist-ddpm and fashion-gan)
from . import colored  # noqa: F401  (registers colored-mnist-ddpm)
from . import mitigation  # noqa: F401  (registers the sweeps and the arena)
from . import tails  # noqa: F401  (registers memoriser and its sweep over T, tails)
from .registry import Experiment, all_experiments, get, register, resolve_config  # noqa: F401
