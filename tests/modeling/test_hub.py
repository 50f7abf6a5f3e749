import json
import textwrap

import numpy as np
import pytest
import torch
from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForCTC,
    AutoModelForPreTraining,
    AutoProcessor,
    Wav2Vec2CTCTokenizer,
)

from hf_asr import (
    LogMelFeatureExtractor,
    LogMelWav2Vec2Config,
    LogMelWav2Vec2ForCTC,
    LogMelWav2Vec2ForPreTraining,
    LogMelWav2Vec2Model,
    LogMelWav2Vec2Processor,
)
from hf_asr.hub import save_model_folder

from ..without_hf_asr import run_without_hf_asr
from .helpers import features, tiny_config


def make_tokenizer(tmp_path) -> Wav2Vec2CTCTokenizer:
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate("abcdefghi")}}
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(vocab))
    return Wav2Vec2CTCTokenizer(str(path), bos_token=None, eos_token=None, word_delimiter_token="|")


@pytest.fixture
def saved_folder(tmp_path):
    tokenizer = make_tokenizer(tmp_path)
    config = tiny_config(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    model = LogMelWav2Vec2ForCTC(config).eval()
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    folder = save_model_folder(model, processor, tmp_path / "model")
    return folder, model


def test_save_then_auto_load_gives_identical_logits(saved_folder):
    folder, model = saved_folder
    batch = features([8000, 5000])
    loaded = AutoModelForCTC.from_pretrained(folder).eval()
    assert type(loaded) is LogMelWav2Vec2ForCTC
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits, atol=0, rtol=0)
    assert isinstance(AutoConfig.from_pretrained(folder), LogMelWav2Vec2Config)
    assert type(AutoModel.from_pretrained(folder)) is LogMelWav2Vec2Model
    assert type(AutoModelForPreTraining.from_pretrained(folder)) is LogMelWav2Vec2ForPreTraining
    assert type(AutoFeatureExtractor.from_pretrained(folder)) is LogMelFeatureExtractor
    processor = AutoProcessor.from_pretrained(folder)
    assert type(processor) is LogMelWav2Vec2Processor  # not the bare tokenizer
    assert processor.tokenizer.decode([3, 3, 0, 4, 2, 5]) == "ab c"
    assert "<s>" not in processor.tokenizer.get_vocab()


def test_saved_folder_has_the_full_auto_map_and_the_code(saved_folder):
    folder, _ = saved_folder
    config = json.loads((folder / "config.json").read_text())
    for auto_class in ["AutoConfig", "AutoModel", "AutoModelForCTC", "AutoModelForPreTraining"]:
        assert auto_class in config["auto_map"]
    for module in ["configuration.py", "model.py", "feature_extraction.py", "processing.py", "quantizer.py"]:
        assert (folder / module).exists(), module
        assert "import hf_asr" not in (folder / module).read_text()


@pytest.mark.parametrize("model_class", [LogMelWav2Vec2Model, LogMelWav2Vec2ForPreTraining, LogMelWav2Vec2ForCTC])
def test_every_module_the_auto_map_names_is_in_the_folder(tmp_path, model_class):
    # transformers copies only the saved class's file and its imports; a bare encoder lives in base_model.py.
    model_class(tiny_config()).save_pretrained(tmp_path)
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    for target in auto_map.values():
        assert (tmp_path / f"{target.split('.')[0]}.py").exists(), target


def test_saving_over_an_existing_folder_is_atomic(saved_folder, tmp_path):
    folder, model = saved_folder

    class Exploding:
        def save_pretrained(self, path):
            (path / "partial.txt").write_text("half written")
            raise RuntimeError("disk full")

    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(RuntimeError, match="disk full"):
        save_model_folder(model, Exploding(), folder)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".model.tmp")]


REMOTE_LOAD = textwrap.dedent(
    """
    import numpy as np, torch
    from transformers import (AutoModel, AutoModelForCTC, AutoModelForPreTraining, AutoFeatureExtractor,
                              AutoProcessor)

    folder, wave_path, logits_path = sys.argv[1:4]
    model = AutoModelForCTC.from_pretrained(folder, trust_remote_code=True).eval()
    assert "hf_asr" not in type(model).__module__, type(model).__module__
    extractor = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    assert type(processor).__name__ == "LogMelWav2Vec2Processor", type(processor)
    assert type(AutoModel.from_pretrained(folder, trust_remote_code=True)).__name__ == "LogMelWav2Vec2Model"
    assert type(AutoModelForPreTraining.from_pretrained(folder, trust_remote_code=True)).__name__ == (
        "LogMelWav2Vec2ForPreTraining")
    inputs = extractor(np.load(wave_path), sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits.numpy()
    np.testing.assert_allclose(logits, np.load(logits_path), atol=1e-5)
    print("REMOTE-OK")
    """
)


def test_remote_code_loads_without_hf_asr(saved_folder, tmp_path):
    folder, model = saved_folder
    wave = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    with torch.no_grad():
        logits = model(**LogMelFeatureExtractor()(wave, sampling_rate=16000, return_tensors="pt")).logits.numpy()
    np.save(tmp_path / "wave.npy", wave)
    np.save(tmp_path / "logits.npy", logits)
    result = run_without_hf_asr(
        REMOTE_LOAD, [str(folder), str(tmp_path / "wave.npy"), str(tmp_path / "logits.npy")], tmp_path
    )
    assert "REMOTE-OK" in result.stdout, result.stderr[-3000:]
