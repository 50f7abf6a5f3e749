"""Checks of numbers a user gives (options, settings), each error naming the option, the value and what is allowed.

    check_number("--mask_prob", 1.5, float, "in [0, 1]", lambda v: 0 <= v <= 1)  # ValueError naming all three

The rules in words and as a test live side by side, so the message always says what the test allows. (hf_asr/modeling
does not import this: it ships to the Hub on its own and checks its config itself.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Rule = tuple[type, str, Callable[[Any], bool]]  # (int or float, allowed values in words, test)
POSITIVE: Rule = (float, "> 0", lambda v: v > 0)
NOT_NEGATIVE: Rule = (float, ">= 0", lambda v: v >= 0)
FRACTION: Rule = (float, "in [0, 1]", lambda v: 0 <= v <= 1)
COUNT: Rule = (int, ">= 1", lambda v: v >= 1)
ANY_NUMBER: Rule = (float, "finite", lambda v: True)


def check_number(name: str, value: Any, kind: type, allowed: str, test: Callable[[Any], bool]) -> Any:
    """`value` as `kind` (int or float); TypeError unless it is such a number (bools are not), ValueError naming
    `name`, the value and `allowed` unless it is finite and passes `test`."""
    integer_only = kind is int
    numeric = (int, np.integer) if integer_only else (int, float, np.integer, np.floating)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numeric):
        raise TypeError(f"{name} must be {'an integer' if integer_only else 'a number'} {allowed}, got {value!r}")
    if not math.isfinite(value) or not test(value):
        finite = "finite and " if not integer_only and allowed != "finite" else ""
        raise ValueError(f"{name} must be {finite}{allowed}, got {value}")
    return kind(value)


def check_optional(name: str, value: Any, rule: Rule) -> Any:
    """None, or `value` checked by `check_number` with `rule`."""
    return None if value is None else check_number(name, value, *rule)


__all__ = ["check_number", "check_optional", "Rule", "POSITIVE", "NOT_NEGATIVE", "FRACTION", "COUNT", "ANY_NUMBER"]
