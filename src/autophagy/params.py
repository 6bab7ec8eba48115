"""Typed, range-checked experiment parameters.

Every experiment declares its parameters as :class:`Param` objects. The command line and
the chapters resolve them through :func:`resolve`, so bad input is rejected the same way
everywhere: one :class:`ParameterError` whose message is a single line naming the problem
and the allowed values, raised before any work is done.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class ParameterError(ValueError):
    """Bad input: the message is one line, fit to print as it is."""


def _integer(text: str) -> int:
    """An integer written in scientific notation ("1e5", "2.5E3"), exactly; ValueError if the
    number it writes is not a whole one."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(text)
    return int(number)


@dataclass(frozen=True)
class Derived:
    """A default computed from the other parameters' values (``rule(config)``), so it cannot
    clash with them; ``text`` says how (``autophagy list`` prints it)."""

    text: str
    rule: Callable[[dict[str, Any]], Any]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Param:
    """One parameter: its name, type, default and allowed values.

    ``low``/``high`` bound numbers (``low_open``/``high_open`` exclude the bound);
    ``choices`` lists the allowed strings. ``default`` may be :class:`Derived`.
    """

    name: str
    kind: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: Sequence[str] | None = None

    def allowed(self) -> str:
        """The allowed values, in words."""
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"

        def bound(x: float) -> str:  # integers in full: 100000000, not 1e+08
            return str(int(x)) if self.kind is int and float(x).is_integer() else f"{x:g}"

        lo = "-inf" if self.low is None else bound(self.low)
        hi = "inf" if self.high is None else bound(self.high)
        left = "(" if self.low is None or self.low_open else "["
        right = ")" if self.high is None or self.high_open else "]"
        noun = "an integer" if self.kind is int else "a number"
        return f"{noun} in {left}{lo}, {hi}{right}"

    def convert(self, value: Any) -> Any:
        """``value`` (a string from the command line, or a Python value) as this type."""
        bad = ParameterError(f"{self.name}={value!r} is invalid: expected {self.allowed()}")
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            raise bad
        if self.kind is str:
            if not isinstance(value, str):
                raise bad
            if self.choices is not None and value not in self.choices:
                raise bad
            return value
        if isinstance(value, bool):
            raise bad
        try:
            if self.kind is int:
                if isinstance(value, float):
                    if not value.is_integer():
                        raise bad
                    value = int(value)
                text = str(value).strip().replace("_", "")
                converted = _integer(text) if "e" in text.lower() else int(text, 10)
            else:
                converted = float(value)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
        if isinstance(converted, float) and not math.isfinite(converted):
            raise bad
        if self.low is not None and (converted < self.low or (self.low_open and converted == self.low)):
            raise bad
        if self.high is not None and (converted > self.high or (self.high_open and converted == self.high)):
            raise bad
        return converted


def integer(name: str, default: int | Derived, help: str, low: int | None = None, high: int | None = None) -> Param:
    """An integer parameter in [low, high]."""
    return Param(name, int, default, help, low=low, high=high)


def number(
    name: str,
    default: float,
    help: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> Param:
    """A real parameter between low and high (either end may be open)."""
    return Param(name, float, default, help, low=low, high=high, low_open=low_open, high_open=high_open)


def choice(name: str, default: str, help: str, choices: Sequence[str]) -> Param:
    """A string parameter from a fixed list."""
    return Param(name, str, default, help, choices=tuple(choices))


def flag(name: str, default: bool, help: str) -> Param:
    """A true/false parameter."""
    return Param(name, bool, default, help)


def resolve(
    params: Sequence[Param],
    profile_values: dict[str, Any],
    overrides: dict[str, Any],
    check: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Defaults, then the profile's values, then ``overrides``, each converted and checked;
    then the :class:`Derived` defaults that neither set, from the other values.

    ``check`` tests combinations of parameters and raises :class:`ParameterError`.
    """
    by_name = {p.name: p for p in params}
    unknown = sorted(set(overrides) - set(by_name), key=str)
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}: expected one of {', '.join(by_name)}")
    values = {p.name: p.default for p in params}
    values.update(profile_values)
    for name, value in overrides.items():
        values[name] = by_name[name].convert(value)
    derived = {name: value for name, value in values.items() if isinstance(value, Derived)}
    for name, value in values.items():
        if name not in derived:
            values[name] = by_name[name].convert(value)
    for name, value in derived.items():
        values[name] = by_name[name].convert(value.rule(values))
    if check is not None:
        check(values)
    return values
