"""The LM decoder's options, checked in one place for every entry point (`LMDecoder`, its saved files, α/β tuning,
the CLI, the flashlight backend): a bad value raises an error naming the option, the value and what is allowed.

Standard library only: this file ships to the Hub with the model code. Numbers are checked by `value_rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .value_rules import ANY_NUMBER, NOT_NEGATIVE, POSITIVE, Rule, check_value

# pyctcdecode's LanguageModel parameters (its JSON_ATTRS, the keys of attrs.json).
LM_PARAM_NAMES = ("alpha", "beta", "unk_score_offset", "score_boundary")
# max_segment_frames: longer logits are decoded in segments cut at pauses (`long_logits.py`); 1500 frames are 30 s
# of the 20 ms frames of the small config, short enough that beam search's cost per frame stays flat.
SEARCH_DEFAULTS = {
    "beam_width": 100,
    "beam_prune_logp": -10.0,
    "token_min_logp": -5.0,
    "hotword_weight": 10.0,
    "max_segment_frames": 1500,
    "beam_search": "pyctcdecode",
    "blank_skip_logp": None,
}
# blank_skip_logp: None (exact) or a blank log-prob above which a frame counts as blank only (`frame_skipping.py`);
# from log(1/2) up, so that the blank is the frame's most likely label.
BLANK_SKIP_LOGP = Rule(float, low=-0.69, high=0.0, optional=True)
# pyctcdecode: one utterance at a time (hotwords, prune_history); batched: `batched_beam_search.py`, many at once
# with the n-gram LM in tensors (CPU or GPU), the same results as pyctcdecode without prune_history.
BEAM_SEARCHES = ("pyctcdecode", "batched")
MAX_SEGMENT_FRAMES = Rule(int, low=1, optional=True)  # None: never segment
PER_CALL_OPTIONS = ("hotwords", "prune_history")  # decode-time only, never saved


def finite_number(name: str, value: Any) -> float:
    """`value` as a float; TypeError for a non-number (str, None, bool), ValueError for NaN or ±inf."""
    return float(check_value(name, value, ANY_NUMBER))


def positive_int(name: str, value: Any) -> int:
    """`value` as an int >= 1 (a float with an integral value is accepted: 10.0 -> 10)."""
    number = finite_number(name, value)
    if not number.is_integer() or number < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(number)


def positive_number(name: str, value: Any) -> float:
    """`value` as a float > 0 (a duration, say)."""
    return float(check_value(name, value, POSITIVE))


def not_negative_number(name: str, value: Any) -> float:
    """`value` as a float >= 0 (a duration where 0 means "none")."""
    return float(check_value(name, value, NOT_NEGATIVE))


def flag(name: str, value: Any) -> bool:
    """`value` as a bool; only True/False (Python or numpy) are accepted."""
    return check_value(name, value, Rule(bool))


def check_strings(name: str, values: Any, *, allow_empty: bool = True) -> list[str]:
    """`values` (labels, unigrams) as a list of str: a str itself is refused (it would be read as its characters),
    as is any item that is not a str; `allow_empty=False` also refuses an empty list."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of str, got {type(values).__name__} {_short(values)}")
    values = list(values)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{name}[{index}] must be a str, got {type(value).__name__} {value!r}")
    if not values and not allow_empty:
        raise ValueError(f"{name} is empty")
    return values


def check_labels(labels: Any) -> list[str]:
    """CTC labels, one per output id (pyctcdecode's convention, see `ctc_labels`): a non-empty list of distinct
    str. Raises an error naming the first repeated label."""
    labels = check_strings("labels", labels, allow_empty=False)
    seen: dict[str, int] = {}
    for index, label in enumerate(labels):
        if label in seen:
            raise ValueError(f"labels[{index}] = {label!r} repeats labels[{seen[label]}]; each label must be distinct")
        seen[label] = index
    return labels


def check_lm_params(**params: Any) -> dict[str, Any]:
    """alpha (LM weight), beta (word bonus), unk_score_offset: finite numbers; score_boundary: a bool.

    Returns the given ones as plain Python values; an unknown name raises TypeError.
    """
    _refuse_unknown(params, LM_PARAM_NAMES, "LM parameter")
    return {
        name: flag(name, value) if name == "score_boundary" else finite_number(name, value)
        for name, value in params.items()
    }


def check_search_settings(**settings: Any) -> dict[str, Any]:
    """beam_width: a whole number >= 1; beam_prune_logp: a finite number <= 0 (beams this far below the best are
    dropped; above 0 every beam would be); token_min_logp, hotword_weight: finite numbers; max_segment_frames: None
    or an integer >= 1; beam_search: one of BEAM_SEARCHES; blank_skip_logp: None or a number in [-0.69, 0].

    Returns the given ones as plain Python values; an unknown name raises TypeError.
    """
    _refuse_unknown(settings, tuple(SEARCH_DEFAULTS), "decoder setting")
    checked: dict[str, Any] = {}
    for name, value in settings.items():
        if name == "max_segment_frames":
            checked[name] = check_value(name, value, MAX_SEGMENT_FRAMES)
        elif name == "blank_skip_logp":
            checked[name] = None if value is None else float(check_value(name, value, BLANK_SKIP_LOGP))
        elif name == "beam_search":
            if value not in BEAM_SEARCHES:
                raise ValueError(f"beam_search must be one of {list(BEAM_SEARCHES)}, got {value!r}")
            checked[name] = value
        else:
            checked[name] = positive_int(name, value) if name == "beam_width" else finite_number(name, value)
    if checked.get("beam_prune_logp", 0.0) > 0:
        raise ValueError(f"beam_prune_logp must be <= 0 (a log-probability margin), got {settings['beam_prune_logp']}")
    return checked


def check_hotwords(hotwords: Any) -> list[str] | None:
    """Hotwords as a list of phrases, or None for none. A str is one phrase ("new york" boosts that phrase);
    any other iterable holds phrases, each a str. Blank phrases are dropped; no phrase left gives None."""
    if hotwords is None:
        return None
    if isinstance(hotwords, str):
        hotwords = [hotwords]
    elif isinstance(hotwords, (bytes, Mapping)) or not isinstance(hotwords, Iterable):
        raise TypeError(f"hotwords must be a str or a list of str, got {type(hotwords).__name__} {hotwords!r}")
    phrases = []
    for index, phrase in enumerate(hotwords):
        if not isinstance(phrase, str):
            raise TypeError(f"hotwords[{index}] must be a str, got {type(phrase).__name__} {phrase!r}")
        if phrase.strip():
            phrases.append(phrase.strip())
    return phrases or None


def decode_settings(saved: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of one decoding call: `saved` search settings updated by checked per-call `overrides`
    (search settings, hotwords, prune_history). Returns every search setting plus hotwords and prune_history."""
    _refuse_unknown(overrides, (*SEARCH_DEFAULTS, *PER_CALL_OPTIONS), "decoding option")
    search = {k: v for k, v in overrides.items() if k in SEARCH_DEFAULTS}
    return {
        **saved,
        **check_search_settings(**search),
        "hotwords": check_hotwords(overrides.get("hotwords")),
        "prune_history": flag("prune_history", overrides.get("prune_history", True)),
    }


def check_grid(name: str, values: Any) -> list[float]:
    """A non-empty grid of finite numbers (e.g. the alpha values to try in tuning), as floats."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__} {values!r}")
    grid = [finite_number(f"{name}[{index}]", value) for index, value in enumerate(values)]
    if not grid:
        raise ValueError(f"{name} is empty; give at least one value to try")
    return grid


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse_unknown(given: Mapping[str, Any], known: tuple[str, ...], kind: str) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TypeError(f"unknown {kind}(s) {unknown}; known: {sorted(known)}")
