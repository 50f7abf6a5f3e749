"""Synthetic speakers for a corpus that teaches speech rather than speakers: many train voices, held-out voices.

A speaker is one `Voice` setting: engine voice (espeak-ng accent + variant, a flite or a festival voice) with its own
speed and pitch. Held-out patterns name engine voices that no train speaker may use:

    "flite:rms"          the flite voice rms, at any speed and pitch
    "espeak-ng:+m7"      the espeak-ng variant m7, with any accent
    "espeak-ng:en-029"   the espeak-ng accent en-029, with any variant

Validation and test speakers are drawn only from held-out engine voices, train speakers only from the others, so
`train ∩ test = ∅` holds by construction, for whole engine voices and not just for speed/pitch settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .tts import (
    ENGINES,
    ESPEAK,
    ESPEAK_VARIANTS,
    ESPEAK_VOICES,
    FESTIVAL,
    FLITE,
    FLITE_VOICES,
    Voice,
    available_festival_voices,
    available_flite_voices,
    require_program,
)

# One whole flite voice and four espeak-ng variants (across all accents) never speak in train.
DEFAULT_HELDOUT = ("flite:rms", "espeak-ng:+m7", "espeak-ng:+f4", "espeak-ng:+Annie", "espeak-ng:+quincy")
SPEED_RANGE = (0.8, 1.25)
PITCH_RANGE = (0.75, 1.3)


@dataclass(frozen=True)
class SpeakerPools:
    """Disjoint speaker settings: `train` speak train (and the unlabelled pool), `heldout` validation and test."""

    train: tuple[Voice, ...]
    heldout: tuple[Voice, ...]


def voice_name(voice: Voice) -> str:
    """The engine voice of a speaker setting, without speed and pitch: "flite:rms", "espeak-ng:en-us+m7"."""
    return f"{voice.engine}:{voice.name}"


def speaker_voice(speaker_id: str) -> str:
    """The engine voice of a speaker id (`Voice.id`): "espeak-ng:en-us+m7:s1.02:p0.95" -> "espeak-ng:en-us+m7"."""
    return speaker_id.rsplit(":", 2)[0]


def voice_family(speaker_id: str) -> str:
    """The group a per-voice table pools a speaker into: a flite voice, or an espeak-ng variant over all accents
    ("espeak-ng:en-us+m7:s1.02:p0.95" -> "espeak-ng:+m7"; no variant -> "espeak-ng:+default")."""
    engine, name = speaker_voice(speaker_id).split(":", 1)
    if engine != ESPEAK:
        return f"{engine}:{name}"
    return f"{engine}:+{name.partition('+')[2] or 'default'}"


def matches_heldout(engine: str, name: str, patterns: Sequence[str]) -> bool:
    """Whether engine voice `name` of `engine` is held out by one of `patterns` (see the module docstring)."""
    accent, _, variant = name.partition("+")
    for pattern in patterns:
        pattern_engine, _, target = pattern.partition(":")
        if pattern_engine != engine:
            continue
        if target.startswith("+"):
            if variant == target[1:]:
                return True
        elif target == name or (engine == ESPEAK and "+" not in target and target == accent):
            return True
    return False


def engine_voice_names(engines: Sequence[str]) -> dict[str, list[str]]:
    """Every engine voice name per engine: espeak-ng accents × variants, the installed flite and festival voices."""
    names: dict[str, list[str]] = {}
    for engine in engines:
        require_program(engine)
        if engine == ESPEAK:
            names[engine] = [f"{v}+{var}" if var else v for v in ESPEAK_VOICES for var in ESPEAK_VARIANTS]
        elif engine == FLITE:
            names[engine] = [v for v in FLITE_VOICES if v in available_flite_voices()]
        elif engine == FESTIVAL:
            names[engine] = list(available_festival_voices())
            if not names[engine]:
                raise FileNotFoundError("festival has none of its usable voices: `apt-get install festvox-kdlpc16k`")
        else:
            raise ValueError(f"unknown TTS engine {engine!r}; expected one of {list(ENGINES)}")
    return names


def draw_speakers(
    num_train: int,
    num_heldout: int,
    seed: int = 0,
    heldout: Sequence[str] = DEFAULT_HELDOUT,
    engines: Sequence[str] = (ESPEAK, FLITE),
    flite_share: float = 0.25,
    heldout_flite_share: float | None = None,
) -> SpeakerPools:
    """`num_train` train and `num_heldout` held-out speaker settings, all distinct, fixed by `seed`.

    Each speaker has an engine (when espeak-ng is used with flite and/or festival: round(`flite_share` × count)
    train speakers and round(`heldout_flite_share` × count) held-out ones (None: `flite_share`) speak with one of
    the latter, chosen in proportion to their voices on that side), an engine voice from its side of the split (a
    seeded shuffle per engine, refilled once used up, so names repeat only after every name was used) and a speed
    in `SPEED_RANGE` and pitch in `PITCH_RANGE`. The two sides draw from random streams of their own: the held-out
    speakers do not change with `num_train`, `flite_share` or an engine with no held-out voice, so train-side
    experiments keep their test voices. Raises ValueError when the patterns hold out nothing, or a side is left
    without engine voices.
    """
    names = engine_voice_names(engines)
    train_names = {e: [n for n in ns if not matches_heldout(e, n, heldout)] for e, ns in names.items()}
    heldout_names = {e: [n for n in ns if matches_heldout(e, n, heldout)] for e, ns in names.items()}
    if not any(heldout_names.values()):
        raise ValueError(f"the held-out patterns {list(heldout)} match no voice of {list(engines)}")

    def by_share(share: float, count: int, names: dict[str, list[str]], rng: np.random.Generator):
        """Speaker i's engine: exactly round(share * count) speakers of a side from recorded voices (when espeak-ng
        and a recorded engine are both there), in a shuffled order; each picks flite or festival in proportion to
        their voices. A Bernoulli draw per speaker let the held-out side's flite share stray far (10 of 24)."""
        recorded = [e for e in names if e != ESPEAK and names[e]]  # flite and festival: voices built from recordings
        if not recorded:
            return lambda index, voices_left: ESPEAK
        counts = np.array([len(names[e]) for e in recorded], dtype=float)
        n_recorded = round(share * count) if names.get(ESPEAK) else count
        order = rng.permutation(count) < n_recorded  # True: a recorded voice
        picks = [recorded[i] for i in rng.choice(len(recorded), size=count, p=counts / counts.sum())]
        return lambda index, voices_left: picks[index] if order[index] else ESPEAK

    seen: set[str] = set()  # the sides' voice families differ, so their ids cannot collide
    train_rng, heldout_rng = np.random.default_rng(seed), np.random.default_rng([seed, 2])
    train_engines = by_share(flite_share, num_train, train_names, train_rng)
    train = _draw(num_train, train_names, train_engines, train_rng, seen, "train")
    share = flite_share if heldout_flite_share is None else heldout_flite_share
    heldout_engines = by_share(share, num_heldout, heldout_names, heldout_rng)
    test = _draw(num_heldout, heldout_names, heldout_engines, heldout_rng, seen, "held-out")
    return SpeakerPools(tuple(train), tuple(test))


def default_voices(n: int, seed: int = 0, engines: Sequence[str] = (ESPEAK, FLITE)) -> list[Voice]:
    """`n` distinct voices with seeded speed and pitch, no voice held out; with espeak-ng and others, every third
    is flite or festival (in turn).

    The same arguments always give the same list. Raises FileNotFoundError if an engine in `engines` is not
    installed (naming its Debian package).
    """
    unknown = set(engines) - set(ENGINES)
    if unknown or not engines:
        raise ValueError(f"engines must be a non-empty subset of {ENGINES}, got {tuple(engines)}")

    def every_third(index: int, voices_left: dict[str, int]) -> str:
        recorded = [e for e in voices_left if e != ESPEAK]
        if ESPEAK not in voices_left or (recorded and index % 3 == 1):
            return recorded[(index // 3) % len(recorded)]
        return ESPEAK

    return _draw(n, engine_voice_names(engines), every_third, np.random.default_rng(seed), set(), "")


def _draw(
    count: int,
    names: dict[str, list[str]],
    choose_engine: Callable[[int, dict[str, int]], str],
    rng: np.random.Generator,
    seen: set[str],
    side: str,
) -> list[Voice]:
    """`count` distinct speakers (ids not in `seen`, which is updated) from per-engine voice `names`."""
    voices_left = {e: len(ns) for e, ns in names.items() if ns}  # engines with voices on this side, in order
    if count and not voices_left:
        raise ValueError(f"no engine voice is left for the {side} speakers".replace("  ", " "))
    queues: dict[str, list[str]] = {e: [] for e in voices_left}
    voices: list[Voice] = []
    for _ in range(100 * count + 1000):
        if len(voices) == count:
            return voices
        engine = choose_engine(len(voices), voices_left)
        if not queues[engine]:
            queues[engine] = [names[engine][i] for i in rng.permutation(len(names[engine]))]
        voice = Voice(
            engine,
            queues[engine].pop(),
            speed=round(float(rng.uniform(*SPEED_RANGE)), 2),
            pitch=round(float(rng.uniform(*PITCH_RANGE)), 2),
        )
        if voice.id not in seen:
            seen.add(voice.id)
            voices.append(voice)
    raise ValueError(f"cannot draw {count} distinct {side} speakers from {sum(map(len, names.values()))} voices")


__all__ = [
    "SpeakerPools",
    "draw_speakers",
    "default_voices",
    "matches_heldout",
    "voice_family",
    "voice_name",
    "speaker_voice",
    "DEFAULT_HELDOUT",
]
