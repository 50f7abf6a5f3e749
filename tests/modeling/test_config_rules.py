"""Every config field and feature-extractor option is checked by its rule: the error names field, value, allowed."""

import dataclasses
import re

import numpy as np
import pytest
from transformers import PreTrainedConfig

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC
from hf_asr.modeling.configuration import FIELD_RULES
from hf_asr.modeling.feature_extraction import OPTION_RULES
from hf_asr.modeling.value_rules import Rule

from .helpers import tiny_config

OWN_FIELDS = sorted(
    {f.name for f in dataclasses.fields(LogMelWav2Vec2Config)} - {f.name for f in dataclasses.fields(PreTrainedConfig)}
)


def bad_values(rule: Rule) -> list[tuple[object, type[Exception]]]:
    """Values `rule` must refuse, with the exception each gets."""
    wrong_type = {int: "64", float: "0.5", bool: 1, str: 3}[rule.kind]
    cases: list[tuple[object, type[Exception]]] = [(wrong_type, TypeError)]
    if rule.kind is int:
        cases.append((True, TypeError))
    if rule.kind is float:
        cases.append((float("nan"), ValueError))
    if rule.low is not None:
        cases.append((rule.low if rule.low_open else rule.low - 1, ValueError))
    if rule.high is not None:
        cases.append((rule.high + 1, ValueError))
    if rule.choices:
        cases.append(("neither", ValueError))
    if not rule.optional:
        cases.append((None, TypeError))
    if rule.sequence:
        cases = [([value], error) for value, error in cases if value is not None] + [([], ValueError), (3, TypeError)]
    return cases


def test_every_config_field_has_a_rule():
    assert sorted(FIELD_RULES) == OWN_FIELDS


CONFIG_CASES = [(name, value, error) for name in OWN_FIELDS for value, error in bad_values(FIELD_RULES[name])]


@pytest.mark.parametrize(("field", "value", "error"), CONFIG_CASES)
def test_bad_config_value_names_field_value_and_what_is_allowed(field, value, error):
    overrides = {field: value}
    if field in ("conv_kernel", "conv_stride", "conv_dim") and isinstance(value, list) and value:
        overrides[field] = value + [1]  # as many entries as the other conv lists
    shown = re.escape(repr(overrides[field]))
    with pytest.raises(error, match=rf"LogMelWav2Vec2Config\.{field}={shown} .*is not allowed: expected "):
        tiny_config(**overrides)


def test_the_validator_survives_a_string_hidden_size_and_reports_it():
    with pytest.raises(TypeError, match=r"hidden_size='64' \(str\) is not allowed: expected an integer >= 1"):
        LogMelWav2Vec2Config.tiny(hidden_size="64")


@pytest.mark.parametrize(
    "overrides",
    [{"num_codevector_groups": 0}, {"conv_stride": [0, 1]}, {"num_negatives": 0}, {"mask_time_prob": 1.5}],
)
def test_former_crashes_and_silent_values_are_refused(overrides):
    (field,) = overrides
    with pytest.raises(ValueError, match=rf"{field}="):
        tiny_config(**overrides)


def test_a_field_changed_after_construction_is_checked_when_the_model_is_built():
    config = tiny_config()
    config.hidden_size = -8
    with pytest.raises(ValueError, match=r"hidden_size=-8"):
        LogMelWav2Vec2ForCTC(config)


def test_a_saved_config_with_a_bad_value_fails_to_load_by_name(tmp_path):
    tiny_config().save_pretrained(tmp_path)
    text = (tmp_path / "config.json").read_text().replace('"num_negatives": 10', '"num_negatives": 0')
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(ValueError, match="num_negatives=0"):
        LogMelWav2Vec2Config.from_pretrained(tmp_path)


def test_ordinary_values_pass():
    for preset in (LogMelWav2Vec2Config.tiny, LogMelWav2Vec2Config.small, LogMelWav2Vec2Config.base):
        preset()
    tiny_config(mask_time_prob=np.float64(0.2), hidden_size=np.int64(64), pad_token_id=None)


EXTRACTOR_CASES = [(name, value, error) for name, rule in OPTION_RULES.items() for value, error in bad_values(rule)]


@pytest.mark.parametrize(("option", "value", "error"), EXTRACTOR_CASES)
def test_bad_extractor_option_names_option_value_and_what_is_allowed(option, value, error):
    with pytest.raises(error, match=rf"LogMelFeatureExtractor\.{option}={re.escape(repr(value))} .*expected "):
        LogMelFeatureExtractor(**{option: value})


@pytest.mark.parametrize(
    ("options", "named"),
    [({"win_length": 512}, "win_length=512"), ({"f_max": 9000.0}, "f_max=9000.0"), ({"f_min": 9000.0}, "f_min=")],
)
def test_extractor_options_that_contradict_each_other(options, named):
    with pytest.raises(ValueError, match=named):
        LogMelFeatureExtractor(**options)
