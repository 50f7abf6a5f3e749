"""What the demo runs: corpus recipe, model, time split and training recipe, with a CPU and a GPU preset.

The CPU preset is sized for two cores and 15 minutes; the GPU preset (chosen when CUDA is there, or `--preset gpu`)
spends the same minutes on a bigger model and corpus. Every field can be overridden (`hf-asr demo --set key=value`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import torch

from ..data.augmentation import AugmentationSettings
from ..data.speaker_corpus import CorpusRecipe
from ..modeling.configuration import LogMelWav2Vec2Config
from ..modeling.value_rules import (
    ANY_NUMBER,
    COUNT,
    FRACTION,
    LEADING_FRACTION,
    NOT_NEGATIVE,
    POSITIVE,
    Rule,
    check_value,
)

PRESETS = ("cpu", "gpu")
# Time stretch and VTLP mel warp on the log-mel frames of training batches.
DEFAULT_AUGMENT = {"time_stretch": (0.8, 1.2), "mel_warp": (0.8, 1.2)}


@dataclass
class DemoSettings:
    """The demo's knobs. `corpus` and `model` override fields of `CorpusRecipe` and `LogMelWav2Vec2Config.small()`.

    Time: the budget (`minutes`) covers everything; after the corpus is ready, what is left minus `reserve_seconds`
    (LM, evaluation, saving, plots) is split between pretraining (`pretrain_share`) and fine-tuning. Both run on a
    `TimeBudget`: their learning-rate schedules follow elapsed time, so they finish on time on any machine.
    """

    out: str = "runs/demo"
    device: str = "auto"
    preset: str = "cpu"
    seed: int = 0
    minutes: float = 15.0
    # What follows training on 2 cores: LM ~40 s (the alpha/beta grid at the test beam), evaluation ~15 s, saving
    # and plots ~6 s; 60 s left runs at 900 s, on the budget's edge.
    reserve_seconds: float = 80.0
    corpus: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    # Training-batch augmentation: a JSON object naming the steps to use, all others off; true (every step of
    # AugmentationSettings) or false. Measured on 2 cores: waveform steps slow convergence (features per batch);
    # the default feature steps (prepared features kept) cut unseen-voice WER with the LM from 50.2% to 40.1%.
    augment: bool | dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_AUGMENT))
    pretrain_share: float = 0.1
    pretrain_learning_rate: float = 2e-3
    pretrain_seconds_per_batch: float = 48.0
    pretrain_max_steps: int = 100_000  # ceilings: the time budget sets the real counts
    finetune_max_steps: int = 100_000
    finetune_learning_rate: float = 3e-3
    finetune_seconds_per_batch: float = 48.0
    finetune_mask_time_prob: float = 0.1
    finetune_freeze_base_fraction: float = 0.0  # the CTC head alone for this first fraction of fine-tuning
    warmup: float = 0.08
    bf16: bool = False  # bf16 autocast (CPUs with AVX-512 BF16, GPUs)
    eval_steps: int = 300
    lm_order: int = 4
    lm_max_words: int = 60  # LM text: every source sentence up to this long (speech uses 3..12 words)
    # And the words of a word list, one per line (None: none), so the search can spell words the sentences lack.
    # Debian's /usr/share/dict/american-english (wamerican, 102k words; the LM text alone has 18.6k) on the demo
    # model: validation WER with the LM 42.3% -> 41.1%, test 41.5% -> 43.2%: no clear gain, so not by default.
    lm_word_list: str | None = None
    lm_alphas: tuple[float, ...] = (0.3, 0.6, 0.9)
    lm_betas: tuple[float, ...] = (0.0, 1.0, 2.5)
    # None: the test beam. α/β tuned at beam 16 and applied at 64 picked 0.3/0.0 (test 50.2% WER); tuned at 64 the
    # validation split picks 0.6/1.0, the test's best too (44.9%): small beams favour a weak LM.
    tuning_beam_width: int | None = None
    # Test decoding. 64: 40.1% -> 39.4% WER with the LM on the demo model's test posteriors (32: half the time).
    beam_width: int = 64
    num_workers: int = 2  # synthesis and LM-decoding processes
    dataloader_workers: int = 0  # >0 computes (augmented) features beside the training step

    def __post_init__(self) -> None:
        check_settings(self)

    def recipe(self) -> CorpusRecipe:
        return CorpusRecipe(seed=self.seed, **self.corpus)

    def lm_tuning_beam_width(self) -> int:
        """The beam α/β are tuned at: `tuning_beam_width`, or the test beam when it is None."""
        return self.tuning_beam_width or self.beam_width

    def model_config(self) -> LogMelWav2Vec2Config:
        return LogMelWav2Vec2Config.small(**self.model)

    def augmentation(self) -> AugmentationSettings | None:
        if isinstance(self.augment, dict):
            steps = {key: tuple(v) if isinstance(v, list) else v for key, v in self.augment.items()}
            return AugmentationSettings.waveform_only_off(**steps)
        return AugmentationSettings() if self.augment else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# The numeric settings and what they allow. --minutes is an option of its own, the others come through --set.
_NUMBERS: dict[str, Rule] = {
    "minutes": POSITIVE,
    "reserve_seconds": NOT_NEGATIVE,
    "pretrain_share": FRACTION,
    "pretrain_learning_rate": POSITIVE,
    "pretrain_seconds_per_batch": POSITIVE,
    "pretrain_max_steps": COUNT,
    "finetune_max_steps": COUNT,
    "finetune_learning_rate": POSITIVE,
    "finetune_seconds_per_batch": POSITIVE,
    "finetune_mask_time_prob": FRACTION,
    "finetune_freeze_base_fraction": LEADING_FRACTION,
    "warmup": LEADING_FRACTION,
    "eval_steps": COUNT,
    "lm_order": COUNT,
    "lm_max_words": COUNT,
    "tuning_beam_width": Rule(int, low=1, optional=True),
    "beam_width": COUNT,
    "num_workers": COUNT,
    "dataloader_workers": Rule(int, low=0),
    "seed": Rule(int, low=0),
}


def check_settings(settings: DemoSettings) -> None:
    """ValueError/TypeError naming the setting, its value and what is allowed, for values the demo cannot run with."""
    for name, rule in _NUMBERS.items():
        check_value("--minutes" if name == "minutes" else f"demo setting {name}", getattr(settings, name), rule)
    if not isinstance(settings.bf16, bool):
        raise TypeError(f"demo setting bf16 must be true or false, got {settings.bf16!r}")
    if not isinstance(settings.augment, (bool, dict)):
        raise TypeError(f"demo setting augment must be true, false or a JSON object of steps, got {settings.augment!r}")
    try:
        settings.augmentation()
    except TypeError as error:
        known = sorted(f.name for f in fields(AugmentationSettings))
        message = f"demo setting augment={settings.augment!r}: {error}; AugmentationSettings fields: {known}"
        raise TypeError(message) from error
    for name in ("corpus", "model"):
        if not isinstance(getattr(settings, name), dict):
            raise TypeError(f"demo setting {name} must be a JSON object of overrides, got {getattr(settings, name)!r}")
    # A config takes unknown keys silently (a typo would change nothing): name them instead.
    unknown = sorted(set(settings.model) - set(LogMelWav2Vec2Config().to_dict()))
    if unknown:
        raise ValueError(f"demo setting model has unknown LogMelWav2Vec2Config field(s) {unknown}")
    try:
        settings.recipe()
    except TypeError as error:
        known = sorted(f.name for f in fields(CorpusRecipe))
        raise TypeError(f"demo setting corpus={settings.corpus!r}: {error}; CorpusRecipe fields: {known}") from error
    settings.model_config()  # the config's own checks, before any work is done
    for name in ("lm_alphas", "lm_betas"):
        values = getattr(settings, name)
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"demo setting {name} must be a non-empty list of numbers, got {values!r}")
        for value in values:
            check_value(f"demo setting {name}", value, ANY_NUMBER)
    if settings.lm_word_list is not None and not isinstance(settings.lm_word_list, str):
        raise TypeError(f"demo setting lm_word_list must be a file name or null, got {settings.lm_word_list!r}")
    if not isinstance(settings.out, str) or not settings.out:
        raise TypeError(f"demo setting out must be a folder name, got {settings.out!r}")
    if settings.device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"demo setting device must be auto, cpu or cuda, got {settings.device!r}")


# The GPU preset: the same minutes buy a BASE-width Transformer and a corpus several times larger.
_GPU = dict(
    reserve_seconds=120.0,
    num_workers=8,
    corpus=dict(train_sentences=7500, unlabelled_sentences=1500, train_speakers=240, heldout_speakers=32),
    model=dict(
        conv_dim=[512, 512],
        hidden_size=512,
        num_hidden_layers=8,
        num_attention_heads=8,
        intermediate_size=2048,
        num_conv_pos_embeddings=64,
        num_conv_pos_embedding_groups=16,
        num_codevectors_per_group=160,
        codevector_dim=256,
        proj_codevector_dim=256,
        num_negatives=50,
    ),
    pretrain_share=0.2,
    pretrain_learning_rate=1e-3,
    finetune_learning_rate=1e-3,
    pretrain_seconds_per_batch=320.0,
    finetune_seconds_per_batch=320.0,
    eval_steps=500,
)


def resolve_preset(preset: str, device: str) -> str:
    """ "auto" -> "gpu" when CUDA is there (and the device is not forced to the CPU), else "cpu"."""
    if preset == "auto":
        return "gpu" if device != "cpu" and torch.cuda.is_available() else "cpu"
    if preset not in PRESETS:
        raise ValueError(f"unknown demo preset {preset!r}; choose auto or one of {PRESETS}")
    return preset


def demo_settings(preset: str = "auto", device: str = "auto", **overrides: Any) -> DemoSettings:
    """The preset's settings with `overrides` (DemoSettings fields; `corpus`/`model` dicts merge into the preset's)."""
    known = sorted(f.name for f in fields(DemoSettings))
    unknown = set(overrides) - set(known)
    if unknown:
        raise ValueError(f"unknown demo setting(s) {sorted(unknown)}; known: {known}")
    chosen = resolve_preset(preset, device)
    base = dict(_GPU) if chosen == "gpu" else {}
    for key in ("corpus", "model"):
        override = overrides.pop(key, {})
        if not isinstance(override, dict):
            raise TypeError(f"demo setting {key} must be a JSON object of overrides, got {override!r}")
        base[key] = {**base.get(key, {}), **override}
    settings = replace(DemoSettings(), preset=chosen, device=device, **base)
    return replace(settings, **overrides)


__all__ = ["DemoSettings", "demo_settings", "check_settings", "resolve_preset", "PRESETS"]
