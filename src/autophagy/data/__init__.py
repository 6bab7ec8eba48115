"""Real data, shipped offline: MNIST, Fashion-MNIST, Wikipedia text."""

from ..params import ParameterError


class DataError(ParameterError):
    """Data that is missing or damaged: the message is one line naming what to install."""


class DataMissing(DataError, FileNotFoundError):
    """A data set that is not installed (also a FileNotFoundError, as it used to be)."""
