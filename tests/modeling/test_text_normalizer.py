"""TextNormalizer: numbers spoken, dropped or kept; case; what it removes; saved with the processor and reloaded."""

from __future__ import annotations

import json

import pytest

from hf_asr.data.vocab import build_tokenizer
from hf_asr.modeling.feature_extraction import LogMelFeatureExtractor
from hf_asr.modeling.processing import LogMelWav2Vec2Processor
from hf_asr.modeling.text_normalizer import LEGACY_NORMALIZER, NORMALIZER_FILE, TextNormalizer


@pytest.mark.parametrize(
    ("raw", "words", "drop", "keep"),
    [
        ("In 2019, 3 cats!", "in twenty nineteen three cats", "in cats", "in 2019 3 cats"),
        (
            "1,000 paid 3.5 on the 21st",
            "one thousand paid three point five on the twenty first",
            "paid on the st",
            "1 000 paid 3 5 on the 21st",
        ),
        ("1,2,3 go", "one two three go", "go", "1 2 3 go"),
        ("v2 x86", "v two x eighty six", "v x", "v2 x86"),
    ],
)
def test_number_policies(raw, words, drop, keep):
    assert TextNormalizer()(raw) == words
    assert TextNormalizer(numbers="drop")(raw) == drop
    assert TextNormalizer(numbers="keep")(raw) == keep


def test_other_languages_case_and_bad_settings():
    assert TextNormalizer(language="fr")("Il a 3 chats") == "il a trois chats"
    assert TextNormalizer(lowercase=False)("Don\u2019t STOP, 2") == "Don't STOP two"
    with pytest.raises(ValueError, match="language 'xx'.*'en'"):
        TextNormalizer(language="xx")
    with pytest.raises(ValueError, match="numbers='spell'.*'drop', 'keep', 'words'"):
        TextNormalizer(numbers="spell")
    with pytest.raises(TypeError, match="sample 4 in column 'text' is None"):
        TextNormalizer()(None, 4, "text")


def test_removed_characters_counts_what_is_lost_not_what_is_spoken():
    texts = ["Hello, world! 2019", "a-b"]
    assert TextNormalizer().removed_characters(texts) == {",": 1, "!": 1, "-": 1}
    assert TextNormalizer(numbers="drop").removed_characters(texts) == {
        ",": 1,
        "!": 1,
        "-": 1,
        "2": 1,
        "0": 1,
        "1": 1,
        "9": 1,
    }


def test_saved_and_reloaded_and_bad_files_named(tmp_path):
    normalizer = TextNormalizer(numbers="keep", lowercase=False)
    path = normalizer.save_pretrained(tmp_path)
    assert path.name == NORMALIZER_FILE and TextNormalizer.from_pretrained(tmp_path) == normalizer
    assert TextNormalizer.from_pretrained(tmp_path / "elsewhere") is None
    path.write_text(json.dumps({"numbers": "words", "casing": "upper"}))
    with pytest.raises(ValueError, match=f"{path}: unknown keys \\['casing'\\]"):
        TextNormalizer.from_pretrained(tmp_path)
    path.write_text(json.dumps({"numbers": "spell"}))
    with pytest.raises(ValueError, match=f"{path}: numbers='spell'"):
        TextNormalizer.from_pretrained(tmp_path)
    path.write_text("{")
    with pytest.raises(ValueError, match=f"{path} is not valid JSON"):
        TextNormalizer.from_pretrained(tmp_path)


def test_the_processor_keeps_its_normaliser_through_save_and_load(tmp_path):
    tokenizer = build_tokenizer(["abcdefghijklmnopqrstuvwxyz'"])
    normalizer = TextNormalizer(numbers="drop")
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, text_normalizer=normalizer)
    assert processor(text="Two 2!") == tokenizer("two").input_ids
    processor.save_pretrained(tmp_path)
    assert "text_normalizer" not in json.loads((tmp_path / "processor_config.json").read_text())
    loaded = LogMelWav2Vec2Processor.from_pretrained(tmp_path)
    assert loaded.text_normalizer == normalizer
    (tmp_path / NORMALIZER_FILE).unlink()  # a folder saved before normalisers were saved: digits were dropped
    assert LogMelWav2Vec2Processor.from_pretrained(tmp_path).text_normalizer == LEGACY_NORMALIZER
    assert LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer).text_normalizer == TextNormalizer()
    with pytest.raises(TypeError, match="text_normalizer must be a TextNormalizer, got method_descriptor"):
        LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, text_normalizer=str.lower)
