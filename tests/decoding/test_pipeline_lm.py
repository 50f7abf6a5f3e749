"""The saved LM in a model folder: processor save/load, and transformers' ASR pipeline using it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoProcessor, pipeline

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
from hf_asr.decoding.pipeline import TASK, LMSpeechRecognitionPipeline
from hf_asr.hub import save_model_folder
from hf_asr.modeling.lm_decoder import LMDecoder, LMDecoderOutput
from hf_asr.modeling.lm_decoder_folder import LM_DIR

from .synthetic import SAMPLING_RATE, audio


def model_logits(model, waveform: np.ndarray) -> np.ndarray:
    features = LogMelFeatureExtractor()(waveform, sampling_rate=SAMPLING_RATE, return_tensors="pt")
    with torch.no_grad():
        return model(**features).logits[0].numpy()


def test_processor_saves_and_loads_the_decoder(model_folder, labels):
    folder, model, decoder = model_folder
    processor = AutoProcessor.from_pretrained(folder)
    assert type(processor) is LogMelWav2Vec2Processor and isinstance(processor.decoder, LMDecoder)
    assert processor.decoder.lm_params == decoder.lm_params and processor.decoder.search == decoder.search
    logits = [model_logits(model, audio(1.0, seed)) for seed in range(3)]
    out = processor.batch_decode(logits)
    assert isinstance(out, LMDecoderOutput) and out == decoder.decode_batch(logits)
    assert processor.decode(logits[0]) == decoder.decode(logits[0])
    ids = [x.argmax(-1).tolist() for x in logits]
    assert processor.batch_decode(ids) == processor.tokenizer.batch_decode(ids)  # ids still go to the tokenizer


def test_processor_without_lm_and_with_a_broken_lm(model_folder, tmp_path, tokenizer):
    folder, model, _ = model_folder
    plain = save_model_folder(model, LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer), tmp_path / "p")
    assert AutoProcessor.from_pretrained(plain).decoder is None
    broken = save_model_folder(model, AutoProcessor.from_pretrained(folder), tmp_path / "b")
    (broken / LM_DIR / "lm.arpa").write_text("garbage\n")
    with pytest.raises(ValueError, match="lm.arpa"):  # never a silent fallback to greedy decoding
        AutoProcessor.from_pretrained(broken)
    assert AutoProcessor.from_pretrained(broken, load_decoder=False).decoder is None


def test_pipeline_uses_the_saved_lm_like_a_direct_decoder_call(model_folder):
    folder, model, decoder = model_folder
    asr = pipeline(TASK, model=str(folder))
    assert isinstance(asr, LMSpeechRecognitionPipeline) and asr.type == "ctc_with_lm"
    for seed in range(3):
        waveform = audio(1.5, seed)
        text = asr({"raw": waveform, "sampling_rate": SAMPLING_RATE})["text"]
        assert text == decoder.decode(model_logits(model, waveform))
    assert pipeline(TASK, model=str(folder), use_lm=False).type == "ctc"


def test_lm_changes_the_pipeline_output_and_decoder_argument_wins(model_folder, labels):
    folder, model, decoder = model_folder
    waveforms = [audio(2.0, seed) for seed in range(4)]
    greedy = pipeline(TASK, model=str(folder), use_lm=False)
    with_lm = pipeline(TASK, model=str(folder))
    assert [greedy(w)["text"] for w in waveforms] != [with_lm(w)["text"] for w in waveforms]
    strong = LMDecoder(labels, decoder.kenlm_path, decoder.unigrams, alpha=5.0, beta=4.0, beam_width=8)
    explicit = pipeline(TASK, model=str(folder), decoder=strong)
    assert explicit.decoder is strong
    assert [explicit(w)["text"] for w in waveforms] == [strong.decode(model_logits(model, w)) for w in waveforms]


def test_word_timestamps(model_folder):
    folder, _, _ = model_folder
    asr = pipeline(TASK, model=str(folder))
    out = asr(audio(3.0, 1), return_timestamps="word")
    words = [chunk["text"] for chunk in out["chunks"]]
    assert words and " ".join(words) == out["text"]
    spans = [chunk["timestamp"] for chunk in out["chunks"]]
    assert all(0 <= start < end <= 3.0 + 1e-6 for start, end in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_batch_size_two_equals_one_at_a_time(model_folder):
    folder, _, _ = model_folder
    asr = pipeline(TASK, model=str(folder))
    waveforms = [audio(seconds, seed) for seed, seconds in enumerate([0.6, 2.5, 1.2, 2.0])]
    one_by_one = [asr(w)["text"] for w in waveforms]
    assert [o["text"] for o in asr(waveforms, batch_size=2)] == one_by_one
    greedy = pipeline(TASK, model=str(folder), use_lm=False)
    assert [o["text"] for o in greedy(waveforms, batch_size=2)] == [greedy(w)["text"] for w in waveforms]


def test_chunked_equals_unchunked_for_a_local_model(tmp_path, tokenizer, model_folder):
    """Chunking + stride stitching + LM decoding give the unchunked text when the logits are the same.

    A model without Transformer layers and features without per-utterance normalisation has logits that depend
    only on nearby audio, so chunk interiors equal the whole-utterance logits exactly; any difference in the
    text would then come from the pipeline's stitching or from the decoder.
    """
    _, _, decoder = model_folder
    config = LogMelWav2Vec2Config.tiny(num_hidden_layers=0, vocab_size=len(tokenizer), pad_token_id=0)
    torch.manual_seed(1)
    model = LogMelWav2Vec2ForCTC(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(40.0)
        model.lm_head.bias[0] += 3.0
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(do_normalize=False), tokenizer, decoder=decoder)
    folder = save_model_folder(model, processor, tmp_path / "local")
    asr = pipeline(TASK, model=str(folder))
    waveform = np.tile(audio(0.5, 3), 16)  # 8 s
    whole = asr(waveform)["text"]
    chunked = asr(waveform, chunk_length_s=2.0, stride_length_s=0.5)["text"]
    assert len(whole) > 50 and chunked == whole
    assert asr(waveform, chunk_length_s=2.0, stride_length_s=0.5, batch_size=3)["text"] == whole


def test_audio_file_path_is_read_without_the_ffmpeg_program(model_folder, tmp_path, monkeypatch):
    import soundfile

    folder, model, decoder = model_folder
    waveform = audio(1.5, 7)
    path = tmp_path / "clip.wav"
    soundfile.write(path, waveform, SAMPLING_RATE, subtype="FLOAT")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg program reachable
    text = pipeline(TASK, model=str(folder))(str(path))["text"]
    assert text == decoder.decode(model_logits(model, waveform))


def test_audio_file_bytes_are_read_without_the_ffmpeg_program(model_folder, tmp_path, monkeypatch):
    import soundfile

    folder, _, _ = model_folder
    path = tmp_path / "clip.wav"
    soundfile.write(path, audio(1.5, 8), SAMPLING_RATE, subtype="PCM_16")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg program reachable
    asr = pipeline(TASK, model=str(folder))
    text = asr(str(path))["text"]
    assert text and asr(path.read_bytes())["text"] == text


def forward_calls(asr, monkeypatch) -> list[int]:
    """Frames of each model call the pipeline `asr` makes from now on."""
    calls, forward = [], asr.model.forward
    monkeypatch.setattr(asr.model, "forward", lambda **kw: calls.append(kw["input_features"].shape[1]) or forward(**kw))
    return calls


def test_long_audio_is_chunked_unless_told_otherwise(model_folder, monkeypatch):
    folder, _, _ = model_folder
    asr = pipeline(TASK, model=str(folder), use_lm=False)
    calls = forward_calls(asr, monkeypatch)
    asr(audio(59.0))
    assert len(calls) == 1  # a minute or less: whole, as before
    calls.clear()
    asr(audio(70.0))  # 20 s chunks with 3.3 s strides either side: chunks start every 13.3 s
    assert len(calls) == 5 and max(calls) <= 20 * 100 + 1  # 100 mel frames per second
    calls.clear()
    asr(audio(70.0), chunk_length_s=0)
    assert len(calls) == 1


def test_long_audio_with_the_lm_has_a_progress_bar_and_ordered_word_times(model_folder, capsys):
    folder, _, _ = model_folder
    asr = pipeline(TASK, model=str(folder))
    capsys.readouterr()
    out = asr(audio(50.0, 2), return_timestamps="word")  # segmented (2,500 frames) but under a minute: silent
    assert "LM decoding" not in capsys.readouterr().err and out["text"]
    out = asr(audio(70.0, 2), return_timestamps="word")
    assert "LM decoding" in capsys.readouterr().err
    spans = [chunk["timestamp"] for chunk in out["chunks"]]
    assert " ".join(chunk["text"] for chunk in out["chunks"]) == out["text"]
    assert all(0 <= start < end <= 70.0 + 1e-6 for start, end in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])) and spans[-1][1] > 60.0
