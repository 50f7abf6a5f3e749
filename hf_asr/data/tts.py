"""Speak sentences with Debian's `espeak-ng`, `flite` and `festival` into 16 kHz mono float32 audio.

Each call runs the synthesiser as a subprocess that writes a wav file into a temporary folder, reads it back and
resamples it with torchaudio (espeak-ng writes 22.05 kHz, flite 8 or 16 kHz depending on the voice, festival's
diphone voices 16 kHz).
"""

from __future__ import annotations

import functools
import io
import math
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchaudio

from .audio import read_audio

SAMPLING_RATE = 16_000
ESPEAK = "espeak-ng"
FLITE = "flite"
FESTIVAL = "festival"
ENGINES = (ESPEAK, FLITE, FESTIVAL)
# The program each engine runs, and the Debian packages that bring it (festival: with its one male US voice).
_PROGRAM = {ESPEAK: "espeak-ng", FLITE: "flite", FESTIVAL: "text2wave"}
_APT_PACKAGE = {"espeak-ng": "espeak-ng", "flite": "flite", "text2wave": "festival festvox-kdlpc16k"}

# espeak-ng's built-in English voices (the `mb/` ones need MBROLA databases, absent on Debian by default).
ESPEAK_VOICES = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc",
)  # fmt: skip
# Variants that change the speaker but stay intelligible (whisper, croak, robot... are left out).
ESPEAK_VARIANTS = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "Andy", "Annie", "edward", "john", "linda", "max", "michel", "paul", "quincy", "rob", "steph", "travis", "zac",
)  # fmt: skip
# flite's built-in voices (`flite -lv`); `awb_time` only says the time. `kal` is 8 kHz (`kal16`: the same voice at
# 16 kHz); `rms` ignores pitch.
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
# festival voices whose speed and pitch can be set: (the voice's own Duration_Stretch, target F0 mean and standard
# deviation in Hz, from its festvox/*.scm). Its HTS voices ignore both, and speak a flite voice's speaker again.
FESTIVAL_VOICES = {"ked_diphone": (1.1, 105.0, 15.0)}
_FESTIVAL_VOICE_DIR = Path("/usr/share/festival/voices")
_ESPEAK_DEFAULT_WPM = 175
_ESPEAK_DEFAULT_PITCH = 50


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker.

    engine: "espeak-ng", "flite" or "festival". name: the engine's voice, for espeak-ng optionally with a variant
    ("en-us+m3").
    speed: speaking rate relative to the engine's default (1.2 = 20% faster). pitch: relative pitch (1.0 = default).
    """

    engine: str
    name: str
    speed: float = 1.0
    pitch: float = 1.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown TTS engine {self.engine!r}; expected one of {list(ENGINES)}")
        if self.speed <= 0 or self.pitch <= 0:
            raise ValueError(f"speed and pitch must be positive, got speed={self.speed}, pitch={self.pitch}")

    @property
    def id(self) -> str:
        """A stable string naming this voice, used as the corpus' `speaker`."""
        return f"{self.engine}:{self.name}:s{self.speed:.2f}:p{self.pitch:.2f}"

    def command(self, text: str, wav_path: str | Path) -> list[str]:
        """The command line that speaks `text` into `wav_path` (festival's text2wave reads `text` from stdin)."""
        if self.engine == FESTIVAL:
            stretch, f0_mean, f0_std = FESTIVAL_VOICES[self.name]
            params = f"'((target_f0_mean {f0_mean * self.pitch:.1f}) (target_f0_std {f0_std * self.pitch:.1f})"
            return [
                _PROGRAM[FESTIVAL], "-o", str(wav_path),
                "-eval", f"(voice_{self.name})",
                "-eval", f"(Parameter.set 'Duration_Stretch {stretch / self.speed:.4f})",
                "-eval", f"(set! int_lr_params {params} (model_f0_mean 170) (model_f0_std 34)))",
            ]  # fmt: skip
        if self.engine == ESPEAK:
            wpm = round(_ESPEAK_DEFAULT_WPM * self.speed)
            pitch = min(99, max(0, round(_ESPEAK_DEFAULT_PITCH * self.pitch)))
            return [ESPEAK, "-v", self.name, "-s", str(wpm), "-p", str(pitch), "-w", str(wav_path), "--", text]
        return [
            FLITE, "-voice", self.name,
            "--setf", f"duration_stretch={1.0 / self.speed:.4f}",
            "--setf", f"f0_shift={self.pitch:.4f}",
            "-t", text, "-o", str(wav_path),
        ]  # fmt: skip


def require_program(engine: str) -> str:
    """Path of the program of `engine` (or of a program); FileNotFoundError naming the Debian package to install
    when it is missing."""
    program = _PROGRAM.get(engine, engine)
    path = shutil.which(program)
    if path is None:
        package = _APT_PACKAGE.get(program, program)
        raise FileNotFoundError(f"{program} is not installed (or not on PATH): run `apt-get install {package}`")
    return path


@functools.cache
def available_flite_voices() -> tuple[str, ...]:
    """Voices compiled into the installed flite (`flite -lv`)."""
    output = subprocess.run([require_program(FLITE), "-lv"], capture_output=True, text=True).stdout
    return tuple(output.split(":", 1)[-1].split())


@functools.cache
def available_festival_voices() -> tuple[str, ...]:
    """The voices of `FESTIVAL_VOICES` that are installed (a folder under /usr/share/festival/voices/LANGUAGE/)."""
    installed = {path.name for path in _FESTIVAL_VOICE_DIR.glob("*/*")}
    return tuple(name for name in FESTIVAL_VOICES if name in installed)


def synthesize(
    text: str,
    voice: Voice,
    sampling_rate: int = SAMPLING_RATE,
    noise_snr_db: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Speak `text` with `voice`; returns float32 mono audio of shape (num_samples,) at `sampling_rate`.

    With `noise_snr_db`, white Gaussian noise is added so that signal power / noise power is that many dB (power
    measured over the whole utterance); `seed` fixes the noise. Raises FileNotFoundError when the engine is not
    installed and RuntimeError (with the command's stderr) when it fails or produces no sound.
    """
    require_program(voice.engine)
    # flite silently falls back to its default voice for an unknown name: refuse instead.
    if voice.engine == FLITE and voice.name not in available_flite_voices():
        raise ValueError(f"flite has no voice {voice.name!r}; it has {list(available_flite_voices())}")
    if voice.engine == FESTIVAL and voice.name not in available_festival_voices():
        raise ValueError(
            f"festival has no voice {voice.name!r} (installed of {list(FESTIVAL_VOICES)}: "
            f"{list(available_festival_voices())}); `apt-get install festvox-kdlpc16k` brings ked_diphone"
        )
    with tempfile.TemporaryDirectory(prefix="hf_asr_tts_") as tmp:
        wav_path = Path(tmp) / "utterance.wav"
        command = voice.command(text, wav_path)
        stdin = text if voice.engine == FESTIVAL else None
        result = subprocess.run(command, input=stdin, capture_output=True, text=True)
        if result.returncode != 0 or not wav_path.exists():
            raise RuntimeError(
                f"{voice.engine} failed (exit {result.returncode}) for voice {voice.id} on {text!r}: "
                f"{result.stderr.strip() or 'no wav written'}"
            )
        audio, source_rate = read_audio(wav_path)
    if source_rate != sampling_rate:
        audio = _resampler(source_rate, sampling_rate)(torch.from_numpy(audio)).numpy()
    if not np.any(np.abs(audio) > 1e-4):
        raise RuntimeError(f"{voice.engine} produced silence for voice {voice.id} on {text!r}")
    if noise_snr_db is not None:
        audio = add_noise(audio, noise_snr_db, np.random.default_rng(seed))
    return audio.astype(np.float32, copy=False)


@functools.cache
def _resampler(source_rate: int, target_rate: int) -> torchaudio.transforms.Resample:
    """`torchaudio.functional.resample`'s filter, built once: 1.1 instead of 3.5 ms per 2 s utterance."""
    return torchaudio.transforms.Resample(source_rate, target_rate)


def check_snr_db(snr_db: Any) -> float:
    """`snr_db` as a float; ValueError/TypeError naming it unless it is a finite number (NaN made silent wavs)."""
    if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float, np.integer, np.floating)):
        raise TypeError(f"noise SNR (--noise-snr-db) must be a number of dB, got {snr_db!r}")
    if not math.isfinite(snr_db):
        raise ValueError(
            f"noise SNR (--noise-snr-db) must be a finite number of dB, got {snr_db}; leave it out for clean audio"
        )
    return float(snr_db)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """`audio` (num_samples,) plus white Gaussian noise at `snr_db` dB below the signal's mean power."""
    snr_db = check_snr_db(snr_db)
    signal_power = float(np.mean(audio.astype(np.float64) ** 2))
    noise_std = np.sqrt(signal_power / 10.0 ** (snr_db / 10.0))
    return (audio + rng.normal(0.0, noise_std, size=audio.shape)).astype(np.float32)


def bytes_of_wav(audio: np.ndarray, sampling_rate: int = SAMPLING_RATE) -> bytes:
    """Encode float audio (num_samples,) as a 16-bit PCM mono wav file in memory (clipped to [-1, 1]).

    Raises ValueError for NaN or infinite samples (they would be written as silence).
    """
    audio = np.asarray(audio)
    if not np.all(np.isfinite(audio)):
        bad = int(np.flatnonzero(~np.isfinite(audio))[0])
        raise ValueError(f"audio sample {bad} is {audio.flat[bad]}: only finite samples can be written to a wav")
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sampling_rate)
        f.writeframes(pcm.tobytes())
    return buffer.getvalue()
