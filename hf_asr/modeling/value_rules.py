"""Table-driven checks of settings (config fields, feature-extractor options): type and range, one rule per field.

    RULES = {"hidden_size": Rule(int, low=1), "mask_time_prob": Rule(float, low=0, high=1)}
    check_values("LogMelWav2Vec2Config", {"hidden_size": -1, ...}, RULES)
    # ValueError: LogMelWav2Vec2Config.hidden_size=-1 is not allowed: expected an integer >= 1

A wrong type raises TypeError, a value out of range ValueError; both name the owner, the field, the value and what
is allowed, before any arithmetic on the value can fail with a message that names none of them. The one checker of
user-given numbers in hf_asr (options, settings, config fields); standard library only, as it ships to the Hub.

    check_value("--mask_prob", 1.5, FRACTION)  # ValueError: --mask_prob must be a number in [0, 1], got 1.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """What one field allows. `kind`: int, float (ints accepted too), bool or str; `low`/`high`: inclusive bounds
    (`low_open`/`high_open`: the bound itself excluded); `choices`: the allowed values; `optional`: None allowed;
    `sequence`: a non-empty list/tuple whose every item follows the rule."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    optional: bool = False
    sequence: bool = False

    def describe(self) -> str:
        """What is allowed, in words: "an integer >= 1", "a number in [0, 1]", "None or an integer >= 0"."""
        noun = {int: "an integer", float: "a number", bool: "True or False", str: "a string"}[self.kind]
        if self.choices:
            noun = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            noun += f" in {left}{_number(self.low)}, {_number(self.high)}{right}"
        elif self.low is not None:
            noun += f" {'>' if self.low_open else '>='} {_number(self.low)}"
        elif self.high is not None:
            noun += f" {'<' if self.high_open else '<='} {_number(self.high)}"
        elif self.kind is float:
            noun = "a finite number"
        if self.sequence:
            noun = f"a non-empty list, each item {noun}"
        return f"None or {noun}" if self.optional else noun

    def problem(self, value: Any) -> type[Exception] | None:
        """The exception class for `value` (TypeError or ValueError), or None when it is allowed."""
        if value is None:
            return None if self.optional else TypeError
        if self.sequence:
            if not isinstance(value, (list, tuple)):
                return TypeError
            if not value:
                return ValueError
            item_rule = Rule(self.kind, self.low, self.high, self.low_open, self.high_open, self.choices)
            return next((p for p in map(item_rule.problem, value) if p is not None), None)
        if not self._has_kind(value):
            return TypeError
        if self.choices:
            return None if value in self.choices else ValueError
        if self.kind in (int, float):
            if not math.isfinite(value):
                return ValueError
            if self.low is not None and (value <= self.low if self.low_open else value < self.low):
                return ValueError
            if self.high is not None and (value >= self.high if self.high_open else value > self.high):
                return ValueError
        return None

    def _has_kind(self, value: Any) -> bool:
        if self.kind is bool:
            return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy's too
        if isinstance(value, bool):  # True is an int to Python, never a size or a rate here
            return False
        if self.kind is int:
            return isinstance(value, numbers.Integral)
        if self.kind is float:
            return isinstance(value, numbers.Real)
        return isinstance(value, self.kind)


POSITIVE = Rule(float, low=0, low_open=True)
NOT_NEGATIVE = Rule(float, low=0)
FRACTION = Rule(float, low=0, high=1)
OPEN_FRACTION = Rule(float, low=0, high=1, low_open=True, high_open=True)  # a part that leaves some of the whole
LEADING_FRACTION = Rule(float, low=0, high=1, high_open=True)  # a first part that leaves the rest
COUNT = Rule(int, low=1)
ANY_NUMBER = Rule(float)


def check_value(name: str, value: Any, rule: Rule) -> Any:
    """`value` as a plain Python value of `rule.kind` (ints stay ints for float rules), or TypeError/ValueError
    "NAME must be <what is allowed>, got VALUE"."""
    error = rule.problem(value)
    if error is not None:
        kind = f" ({type(value).__name__})" if error is TypeError else ""
        raise error(f"{name} must be {rule.describe()}, got {value!r}{kind}")
    if value is None or rule.sequence or rule.kind is str:
        return value
    if rule.kind is float and isinstance(value, numbers.Integral):
        return int(value)
    return rule.kind(value)


def check_optional(name: str, value: Any, rule: Rule) -> Any:
    """None, or `value` checked by `check_value`."""
    return None if value is None else check_value(name, value, rule)


def check_values(owner: str, values: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
    """Check each `values[name]` against `rules[name]`; raise TypeError/ValueError naming `owner`.name, the value
    and what is allowed, for the first field that breaks its rule."""
    for name, rule in rules.items():
        value = values.get(name)
        error = rule.problem(value)
        if error is not None:
            raise error(f"{owner}.{name}={value!r} ({type(value).__name__}) is not allowed: expected {rule.describe()}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


__all__ = [
    "Rule",
    "check_value",
    "check_optional",
    "check_values",
    "POSITIVE",
    "NOT_NEGATIVE",
    "FRACTION",
    "OPEN_FRACTION",
    "COUNT",
    "ANY_NUMBER",
]
