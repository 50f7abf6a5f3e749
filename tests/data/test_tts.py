import numpy as np
import pytest
import torch
import torchaudio

from hf_asr.data import tts
from hf_asr.data.speakers import PITCH_RANGE, SPEED_RANGE, default_voices
from hf_asr.data.tts import ESPEAK, FESTIVAL, FLITE, Voice, synthesize

SHORT = "good morning"
LONG = "good morning to everyone who came here today to listen to this long sentence"


@pytest.mark.parametrize(
    "voice",
    [
        Voice(ESPEAK, "en-us"),
        Voice(ESPEAK, "en-gb-scotland+f2"),
        Voice(FLITE, "slt"),
        Voice(FLITE, "kal"),
        Voice(FESTIVAL, "ked_diphone"),
    ],
    ids=lambda v: v.id,
)
def test_each_engine_speaks_16khz_audio_that_grows_with_the_sentence(voice):
    short, long = synthesize(SHORT, voice), synthesize(LONG, voice)
    for audio in (short, long):
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert np.abs(audio).max() > 0.05  # not silent
        assert np.abs(audio).max() <= 1.0
    # 14 words vs 2: clearly longer, and durations are plausible for speech (seconds).
    assert len(long) > 2.5 * len(short)
    assert 0.3 < len(short) / tts.SAMPLING_RATE < 3.0
    assert 2.0 < len(long) / tts.SAMPLING_RATE < 12.0


@pytest.mark.parametrize("engine,name", [(ESPEAK, "en-us"), (FLITE, "awb"), (FESTIVAL, "ked_diphone")])
def test_speed_changes_duration(engine, name):
    slow = synthesize(LONG, Voice(engine, name, speed=0.8))
    fast = synthesize(LONG, Voice(engine, name, speed=1.25))
    assert len(slow) > 1.25 * len(fast)


def test_festival_pitch_follows_the_setting():
    def median_f0(audio: np.ndarray) -> float:
        return float(torchaudio.functional.detect_pitch_frequency(torch.from_numpy(audio)[None], 16_000).median())

    default = median_f0(synthesize(LONG, Voice(FESTIVAL, "ked_diphone")))
    higher = median_f0(synthesize(LONG, Voice(FESTIVAL, "ked_diphone", pitch=1.3)))
    assert 1.15 < higher / default < 1.45


def test_noise_is_added_at_the_requested_snr_and_seeded():
    voice = Voice(ESPEAK, "en-us")
    clean = synthesize(LONG, voice)
    noisy = synthesize(LONG, voice, noise_snr_db=10.0, seed=7)
    noise = noisy - clean
    snr = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert abs(snr - 10.0) < 0.3
    assert np.array_equal(noisy, synthesize(LONG, voice, noise_snr_db=10.0, seed=7))
    assert not np.array_equal(noisy, synthesize(LONG, voice, noise_snr_db=10.0, seed=8))


def test_missing_program_names_the_apt_package(monkeypatch):
    monkeypatch.setattr(tts.shutil, "which", lambda program: None)
    with pytest.raises(FileNotFoundError, match="apt-get install espeak-ng"):
        synthesize(SHORT, Voice(ESPEAK, "en-us"))
    with pytest.raises(FileNotFoundError, match="apt-get install flite"):
        synthesize(SHORT, Voice(FLITE, "slt"))
    with pytest.raises(FileNotFoundError, match="apt-get install festival festvox-kdlpc16k"):
        synthesize(SHORT, Voice(FESTIVAL, "ked_diphone"))


def test_unknown_voices_fail_loudly():
    with pytest.raises(ValueError, match="flite has no voice 'nobody'"):
        synthesize(SHORT, Voice(FLITE, "nobody"))  # flite itself would silently use its default voice
    with pytest.raises(RuntimeError, match="xx-nobody"):
        synthesize(SHORT, Voice(ESPEAK, "xx-nobody"))
    with pytest.raises(ValueError, match="festival has no voice 'nobody'"):
        synthesize(SHORT, Voice(FESTIVAL, "nobody"))
    with pytest.raises(ValueError, match="unknown TTS engine"):
        Voice("mbrola", "x")


def test_default_voices_are_distinct_varied_and_seeded():
    voices = default_voices(24, seed=0)
    assert len({v.id for v in voices}) == 24
    assert {v.engine for v in voices} == {ESPEAK, FLITE}
    assert len({v.name for v in voices}) > 12
    assert all(SPEED_RANGE[0] <= v.speed <= SPEED_RANGE[1] for v in voices)
    assert all(PITCH_RANGE[0] <= v.pitch <= PITCH_RANGE[1] for v in voices)
    assert default_voices(24, seed=0) == voices
    assert default_voices(24, seed=1) != voices
    assert {v.engine for v in default_voices(2, seed=0)} == {ESPEAK, FLITE}
    assert {v.engine for v in default_voices(5, seed=0, engines=[FLITE])} == {FLITE}
    assert {v.engine for v in default_voices(6, seed=0, engines=[ESPEAK, FLITE, FESTIVAL])} == {ESPEAK, FLITE, FESTIVAL}


@pytest.mark.parametrize("snr_db", [float("nan"), float("inf"), "20"])
def test_a_noise_level_that_is_not_a_finite_number_is_refused(snr_db):
    with pytest.raises((ValueError, TypeError), match=r"noise SNR \(--noise-snr-db\) must be a (finite )?number"):
        tts.add_noise(np.ones(100, np.float32), snr_db, np.random.default_rng(0))


def test_a_wav_of_non_finite_samples_is_refused():
    audio = np.zeros(10, np.float32)
    audio[4] = np.nan
    with pytest.raises(ValueError, match="audio sample 4 is nan"):
        tts.bytes_of_wav(audio)
