"""A model folder with a missing or corrupt file: errors naming the folder/file, from every way of loading it."""

import json
import shutil

import pytest
from transformers import AutoModelForCTC, AutoProcessor, Wav2Vec2CTCTokenizer

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining, LogMelWav2Vec2Processor
from hf_asr.hub import load_model_folder, save_model_folder
from hf_asr.modeling.model_folder import CorruptModelFileError, MissingModelFileError, check_model_folder

from .helpers import tiny_config


@pytest.fixture(scope="module")
def saved_folder(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("model_folder")
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate("abc")}}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(tmp_path / "vocab.json"), bos_token=None, eos_token=None)
    model = LogMelWav2Vec2ForCTC(tiny_config(vocab_size=len(tokenizer)))
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    return save_model_folder(model, processor, tmp_path / "model")


@pytest.fixture
def copy_of(saved_folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved_folder, copy)
    return copy


def test_a_whole_folder_passes_and_loads(saved_folder):
    check_model_folder(saved_folder)
    model, processor = load_model_folder(saved_folder)
    assert isinstance(model, LogMelWav2Vec2ForCTC) and isinstance(processor, LogMelWav2Vec2Processor)


@pytest.mark.parametrize(
    "load",
    [LogMelWav2Vec2Processor.from_pretrained, AutoProcessor.from_pretrained, load_model_folder, check_model_folder],
)
def test_missing_vocab_names_the_folder_and_the_file(copy_of, load):
    (copy_of / "vocab.json").unlink()
    with pytest.raises(MissingModelFileError, match=rf"model folder {copy_of} has no vocab\.json"):
        load(copy_of)


@pytest.mark.parametrize("kept", [5, 50, 0.5])
@pytest.mark.parametrize(
    "load",
    [
        LogMelWav2Vec2ForCTC.from_pretrained,
        LogMelWav2Vec2ForPreTraining.from_pretrained,
        AutoModelForCTC.from_pretrained,
        load_model_folder,
        check_model_folder,
    ],
)
def test_truncated_weights_name_the_file(copy_of, load, kept):
    weights = copy_of / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: int(kept * len(data)) if isinstance(kept, float) else kept])
    with pytest.raises(CorruptModelFileError, match=rf"model weights {weights} are corrupt: .*(truncated|fewer)"):
        load(copy_of)


def test_weights_that_are_not_safetensors_are_named(copy_of):
    (copy_of / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"not json at all!")
    with pytest.raises(CorruptModelFileError, match="is not a safetensors header"):
        LogMelWav2Vec2ForCTC.from_pretrained(copy_of)


def test_missing_pieces_are_named(copy_of, tmp_path):
    with pytest.raises(MissingModelFileError, match="does not exist"):
        check_model_folder(tmp_path / "nowhere")
    (copy_of / "model.safetensors").unlink()
    with pytest.raises(MissingModelFileError, match="has no weights"):
        check_model_folder(copy_of)
    (copy_of / "config.json").unlink()
    with pytest.raises(MissingModelFileError, match="has no config.json"):
        load_model_folder(copy_of)


def test_a_safetensors_error_past_the_local_check_is_named_too(copy_of, monkeypatch):
    import hf_asr.modeling.base_model as model_module

    weights = copy_of / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:50])
    monkeypatch.setattr(model_module, "check_weights_files", lambda folder: None)  # as for a downloaded repo
    with pytest.raises(CorruptModelFileError, match=rf"the weights of {copy_of} cannot be read"):
        LogMelWav2Vec2ForCTC.from_pretrained(copy_of)


def test_the_checks_ship_with_the_remote_code(saved_folder):
    for module in ("model_folder.py", "value_rules.py", "transcripts.py"):
        assert (saved_folder / module).exists(), module
