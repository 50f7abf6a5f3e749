"""build_lm: KenLM files from text, normalised like transcripts; clear errors when tools or text are missing."""

from __future__ import annotations

import kenlm
import pytest

from hf_asr.decoding import lm_building
from hf_asr.decoding.lm_building import build_lm, find_kenlm_tool
from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.text_normalizer import TextNormalizer

from .synthetic import ambiguous, spell

try:
    find_kenlm_tool("lmplz")
    find_kenlm_tool("build_binary")
    HAVE_KENLM_TOOLS = True
except FileNotFoundError:
    HAVE_KENLM_TOOLS = False
needs_tools = pytest.mark.skipif(not HAVE_KENLM_TOOLS, reason="lmplz/build_binary not built (bash scripts/setup.sh)")


@needs_tools
def test_builds_binary_and_normalised_unigrams(tmp_path, labels):
    text = tmp_path / "corpus.txt"
    text.write_text("The CAT sat!\nthe cat sat on the mat.\nA cat’s hat\n\n")
    files = build_lm(text, tmp_path / "lm", order=3, memory="64M")
    assert files.binary.is_file() and files.num_sentences == 3
    assert files.unigrams.read_text().split() == sorted({"the", "cat", "sat", "on", "mat", "a", "cat's", "hat"})
    model = kenlm.Model(str(files.binary))
    assert model.order == 3
    assert model.score("the cat sat", bos=True, eos=True) > model.score("sat the cat", bos=True, eos=True)
    decoder = LMDecoder(labels, files.binary, files.unigrams.read_text().split())
    assert decoder.decode(spell("the ", labels).tolist() + ambiguous("cat", "cst", labels).tolist()) == "the cat"


@needs_tools
def test_reads_a_saved_dataset_column(tmp_path):
    import datasets

    splits = {"train": ["one two", "two three"], "test": ["secret words"]}
    datasets.DatasetDict({k: datasets.Dataset.from_dict({"sentence": v}) for k, v in splits.items()}).save_to_disk(
        str(tmp_path / "ds")
    )
    files = build_lm(tmp_path / "ds", tmp_path / "lm", order=2, text_column="sentence", memory="64M")
    assert files.unigrams.read_text().split() == ["one", "three", "two"]  # test transcripts stay out of the LM
    everything = build_lm(tmp_path / "ds", tmp_path / "all", order=2, text_column="sentence", split=None, memory="64M")
    assert "secret" in everything.unigrams.read_text().split()
    with pytest.raises(KeyError, match="'text'"):
        build_lm(tmp_path / "ds", tmp_path / "lm2", order=2, memory="64M")
    with pytest.raises(KeyError, match="'dev'.*train"):
        build_lm(tmp_path / "ds", tmp_path / "lm3", order=2, text_column="sentence", split="dev", memory="64M")


def test_reads_the_transcripts_of_any_corpus_layout(tmp_path):
    from hf_asr.decoding.lm_building import iter_text

    from ..data.layout_corpora import make_nemo, make_speechbrain

    folder = make_speechbrain(tmp_path / "sb")
    assert list(iter_text(folder)) == ["a cat", "a dog"]  # train.csv only: valid.csv stays out of the LM
    assert sorted(iter_text(folder, split=None)) == ["a bird", "a cat", "a dog"]
    manifest = make_nemo(tmp_path / "nemo") / "dev_manifest.json"
    assert list(iter_text(manifest)) == ["seven"]  # a manifest file is a corpus, not lines of text


@needs_tools
def test_empty_text_is_an_error(tmp_path):
    text = tmp_path / "empty.txt"
    text.write_text("\n  \n!!!\n")
    with pytest.raises(ValueError, match="no words"):
        build_lm(text, tmp_path / "lm", memory="64M")


def test_missing_tool_names_it_and_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(lm_building, "CHECKOUT_DIR", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="`lmplz`.*bash scripts/setup.sh"):
        build_lm(["some text"], tmp_path / "lm")


def test_missing_text_file_is_named(tmp_path):
    if not HAVE_KENLM_TOOLS:
        pytest.skip("lmplz not built")
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        build_lm(tmp_path / "nothing.txt", tmp_path / "lm")


@needs_tools
@pytest.mark.parametrize("content", ["1234 5678\n2024\n", "!!! ... ???\n-- 42 --\n"])
def test_text_that_normalises_to_nothing_names_the_file_and_why(tmp_path, content):
    text = tmp_path / "numbers.txt"
    text.write_text(content)
    drop_digits = TextNormalizer(numbers="drop")
    with pytest.raises(ValueError, match=f"LM text {text} has no words after normalisation: all 2 line.*drops them"):
        build_lm(text, tmp_path / "lm", memory="64M", normalizer=drop_digits)
    assert not (tmp_path / "lm" / "lm.bin").exists()
    (tmp_path / "blank.txt").write_text("")
    with pytest.raises(ValueError, match=f"LM text {tmp_path / 'blank.txt'} is empty"):
        build_lm(tmp_path / "blank.txt", tmp_path / "lm", memory="64M")


@needs_tools
def test_a_line_that_is_not_a_string_is_named(tmp_path):
    with pytest.raises(TypeError, match=r"LM text \(the given lines\): line 1 is None \(NoneType\), not a str"):
        build_lm(["the cat", None], tmp_path / "lm", memory="64M")


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"order": 1}, ValueError, "order must be >= 2"),
        ({"order": "3"}, TypeError, "order must be a finite number, got '3'"),
        ({"prune": [0, -1]}, ValueError, r"prune\[1\] must be a whole number >= 0"),
    ],
)
def test_bad_build_options_are_named(tmp_path, options, error, message):
    with pytest.raises(error, match=message):
        build_lm(["the cat sat"], tmp_path / "lm", **options)


def test_text_that_is_not_utf8_is_named(tmp_path):
    from hf_asr.decoding.lm_building import iter_text

    text = tmp_path / "latin1.txt"
    text.write_bytes("the cat\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match=f"LM text {text}: line 2 is not UTF-8 text"):
        list(iter_text(text))
