"""LogMelWav2Vec2Config: the one schema of the log-mel wav2vec 2.0 models.

Field names follow transformers' Wav2Vec2Config wherever the meaning is the same.
"""

from __future__ import annotations

import math

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from .pipeline_entry import pipelines_not_served_here
from .value_rules import Rule, check_values

_SIZE = Rule(int, low=1)
_COUNT = Rule(int, low=0)
_PROBABILITY = Rule(float, low=0, high=1)
_POSITIVE = Rule(float, low=0, low_open=True)
_FLAG = Rule(bool)
_TOKEN_ID = Rule(int, low=0, optional=True)
POSITION_EMBEDDINGS = ("conv", "depthwise", "rotary")  # see positional.py
# Every field of the schema and what it allows; validate_architecture checks them before anything computes with them.
FIELD_RULES: dict[str, Rule] = {
    "num_mel_bins": _SIZE,
    "sampling_rate": _SIZE,
    "mel_hop_length": _SIZE,
    "conv_dim": Rule(int, low=1, sequence=True),
    "conv_kernel": Rule(int, low=1, sequence=True),
    "conv_stride": Rule(int, low=1, sequence=True),
    "conv_bias": _FLAG,
    "hidden_size": _SIZE,
    "num_hidden_layers": _COUNT,  # 0: the conv stem and positional convolution alone
    "num_attention_heads": _SIZE,
    "intermediate_size": _SIZE,
    "position_embedding": Rule(str, choices=POSITION_EMBEDDINGS),
    "num_conv_pos_embeddings": _SIZE,
    "num_conv_pos_embedding_groups": _SIZE,
    "conv_module_kernel": Rule(int, low=0),
    "ctc_upsampling": _SIZE,
    "interctc_layer": _COUNT,
    "interctc_weight": _PROBABILITY,
    "hidden_dropout": _PROBABILITY,
    "attention_dropout": _PROBABILITY,
    "activation_dropout": _PROBABILITY,
    "feat_proj_dropout": _PROBABILITY,
    "final_dropout": _PROBABILITY,
    "layerdrop": _PROBABILITY,
    "layer_norm_eps": _POSITIVE,
    "initializer_range": _POSITIVE,
    "apply_spec_augment": _FLAG,
    "mask_time_prob": _PROBABILITY,
    "mask_time_length": _SIZE,
    "mask_time_min_masks": _COUNT,
    "mask_feature_prob": _PROBABILITY,
    "mask_feature_length": _SIZE,
    "mask_feature_min_masks": _COUNT,
    "num_codevector_groups": _SIZE,
    "num_codevectors_per_group": _SIZE,
    "codevector_dim": _SIZE,
    "proj_codevector_dim": _SIZE,
    "contrastive_logits_temperature": _POSITIVE,
    "num_negatives": _SIZE,
    "diversity_loss_weight": Rule(float, low=0),
    "max_gumbel_temperature": _POSITIVE,
    "min_gumbel_temperature": _POSITIVE,
    "gumbel_temperature_decay": Rule(float, low=0, high=1, low_open=True),
    "vocab_size": _SIZE,
    "ctc_loss_reduction": Rule(str, choices=("mean", "sum")),
    "ctc_zero_infinity": _FLAG,
    "pad_token_id": _TOKEN_ID,
    "bos_token_id": _TOKEN_ID,
    "eos_token_id": _TOKEN_ID,
}


@strict
class LogMelWav2Vec2Config(PreTrainedConfig):
    model_type = "logmel_wav2vec2"

    # Log-mel input (must match the feature extractor).
    num_mel_bins: int = 80
    sampling_rate: int = 16000
    mel_hop_length: int = 160
    # Conv feature encoder over mel frames: stride product 2 turns 10 ms mel frames into 20 ms frames.
    conv_dim: list[int] | tuple[int, ...] = (512, 512)
    conv_kernel: list[int] | tuple[int, ...] = (5, 3)
    conv_stride: list[int] | tuple[int, ...] = (2, 1)
    conv_bias: bool = True
    # Transformer.
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    # Positional information: "conv" (wav2vec 2.0's grouped conv, num_conv_pos_embeddings wide), "depthwise"
    # (depthwise + pointwise conv, same width, a fraction of the cost) or "rotary" (RoPE in attention, no conv).
    position_embedding: str = "conv"
    num_conv_pos_embeddings: int = 128
    num_conv_pos_embedding_groups: int = 16
    # The Conformer's convolution module in every layer, this many frames wide (odd); 0: none (wav2vec 2.0).
    conv_module_kernel: int = 0
    hidden_dropout: float | int = 0.1
    attention_dropout: float | int = 0.1
    activation_dropout: float | int = 0.0
    feat_proj_dropout: float | int = 0.0
    final_dropout: float | int = 0.1
    layerdrop: float | int = 0.0
    layer_norm_eps: float | int = 1e-5
    initializer_range: float | int = 0.02
    # Time and channel masking, with transformers' meaning: mask_time_prob * length / mask_time_length
    # spans per utterance. 0.65 × span 10 is wav2vec 2.0's p = 0.065 start probability (≈49% of frames
    # masked) for pretraining; fine-tuning (SpecAugment) usually lowers it to ≈0.05.
    apply_spec_augment: bool = True
    mask_time_prob: float | int = 0.65
    mask_time_length: int = 10
    mask_time_min_masks: int = 2
    mask_feature_prob: float | int = 0.0
    mask_feature_length: int = 10
    mask_feature_min_masks: int = 0
    # Gumbel quantizer and contrastive pretraining.
    num_codevector_groups: int = 2
    num_codevectors_per_group: int = 320
    codevector_dim: int = 256
    proj_codevector_dim: int = 256
    contrastive_logits_temperature: float | int = 0.1
    num_negatives: int = 100
    diversity_loss_weight: float | int = 0.1
    max_gumbel_temperature: float | int = 2.0
    min_gumbel_temperature: float | int = 0.5
    gumbel_temperature_decay: float | int = 0.999995
    # CTC head. ctc_upsampling: logit frames per encoder frame (the head maps each encoder frame to this many): a
    # Transformer at 40 ms (conv_stride (2, 2)) with CTC at 20 ms, half the Transformer's work for the same CTC
    # resolution (time reduction, as in Squeezeformer; labels need enough frames, which 40 ms often lacks).
    ctc_upsampling: int = 1
    # Intermediate CTC (Lee & Watanabe, 2021): with interctc_layer k > 0 the fine-tuning loss is
    # (1 - interctc_weight) * CTC(last layer) + interctc_weight * CTC(layer k), both through the final LayerNorm and
    # the same head: a regulariser that makes the lower layers predict characters too (in training; evaluation
    # losses are the last layer's). 0: off.
    interctc_layer: int = 0
    interctc_weight: float | int = 0.3
    vocab_size: int = 32
    ctc_loss_reduction: str = "mean"
    ctc_zero_infinity: bool = False
    pad_token_id: int | None = 0
    bos_token_id: int | None = None
    eos_token_id: int | None = None

    def __post_init__(self, **kwargs):
        # Tuples come back as lists after save/load; store lists so both compare equal.
        self.conv_dim, self.conv_kernel, self.conv_stride = (
            list(v) if isinstance(v, (list, tuple)) else v for v in (self.conv_dim, self.conv_kernel, self.conv_stride)
        )
        # Checked here too, so that a bad value raises our ValueError/TypeError itself (@strict's validate() wraps
        # them in a StrictDataclassClassValidationError, which is neither).
        self.validate_architecture()
        # A saved folder's pipeline entry, kept only where no pipeline of hf_asr's serves its task (pipeline_entry.py).
        if kwargs.get("custom_pipelines"):
            kwargs["custom_pipelines"] = pipelines_not_served_here(kwargs["custom_pipelines"])
            if not kwargs["custom_pipelines"]:
                del kwargs["custom_pipelines"]
        super().__post_init__(**kwargs)

    def validate_architecture(self):
        """Every field against FIELD_RULES (type and range), then the constraints between fields.

        Raises TypeError/ValueError naming the field, the value and what is allowed. The model calls it again when
        it is built, so a field changed after construction is checked too.
        """
        check_values(type(self).__name__, {name: getattr(self, name, None) for name in FIELD_RULES}, FIELD_RULES)
        if not (len(self.conv_dim) == len(self.conv_kernel) == len(self.conv_stride)) or not self.conv_dim:
            raise ValueError(
                "conv_dim, conv_kernel and conv_stride need the same number (>= 1) of entries, got "
                f"{len(self.conv_dim)}, {len(self.conv_kernel)} and {len(self.conv_stride)}"
            )
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size={self.hidden_size} is not divisible by num_attention_heads={self.num_attention_heads}"
            )
        if self.position_embedding == "rotary" and (self.hidden_size // self.num_attention_heads) % 2:
            raise ValueError(
                f"position_embedding='rotary' needs an even head size; hidden_size={self.hidden_size} / "
                f"num_attention_heads={self.num_attention_heads} is odd"
            )
        if self.position_embedding == "conv" and self.hidden_size % self.num_conv_pos_embedding_groups:
            raise ValueError(
                f"hidden_size={self.hidden_size} is not divisible by "
                f"num_conv_pos_embedding_groups={self.num_conv_pos_embedding_groups}"
            )
        if (self.mel_hop_length * math.prod(self.conv_stride)) % self.ctc_upsampling:
            raise ValueError(
                f"ctc_upsampling={self.ctc_upsampling} must divide the audio samples per encoder frame "
                f"(mel_hop_length {self.mel_hop_length} x conv strides {self.conv_stride})"
            )
        if self.interctc_layer >= max(self.num_hidden_layers, 1):
            raise ValueError(
                f"interctc_layer={self.interctc_layer} must lie below num_hidden_layers={self.num_hidden_layers} "
                "(0: no intermediate CTC loss)"
            )
        if self.conv_module_kernel % 2 == 0 and self.conv_module_kernel:
            raise ValueError(f"conv_module_kernel must be odd (a centred window) or 0, got {self.conv_module_kernel}")
        if self.codevector_dim % self.num_codevector_groups:
            raise ValueError(
                f"codevector_dim={self.codevector_dim} is not divisible by "
                f"num_codevector_groups={self.num_codevector_groups}"
            )
        if self.min_gumbel_temperature > self.max_gumbel_temperature:
            raise ValueError(
                f"min_gumbel_temperature={self.min_gumbel_temperature} is above "
                f"max_gumbel_temperature={self.max_gumbel_temperature}"
            )
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"pad_token_id={self.pad_token_id} (the CTC blank) is outside vocab_size={self.vocab_size}"
            )

    @property
    def inputs_to_logits_ratio(self) -> int:
        """Audio samples per logit frame (mel hop × conv strides / ctc_upsampling); the ASR pipeline's chunking needs
        samples."""
        return self.mel_hop_length * math.prod(self.conv_stride) // self.ctc_upsampling

    @property
    def num_codevectors(self) -> int:
        return self.num_codevector_groups * self.num_codevectors_per_group

    def replace(self, **overrides) -> LogMelWav2Vec2Config:
        """A new config with this one's fields and `overrides`, without the keys saving adds (model_type, ...)."""
        fields = {**self.to_dict(), **overrides}
        for key in ("model_type", "transformers_version", "architectures", "auto_map"):
            fields.pop(key, None)
        return type(self)(**fields)

    @classmethod
    def tiny(cls, **overrides) -> LogMelWav2Vec2Config:
        """A few-hundred-thousand-parameter model for tests and CPU demos."""
        settings = dict(
            num_mel_bins=80,
            conv_dim=[64, 64],
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=4,
            num_codevectors_per_group=16,
            codevector_dim=32,
            proj_codevector_dim=32,
            num_negatives=10,
            mask_time_length=4,
        )
        return cls(**{**settings, **overrides})

    @classmethod
    def small(cls, **overrides) -> LogMelWav2Vec2Config:
        """A model that pretrains and fine-tunes in minutes on two CPU cores (the CPU demo's model)."""
        settings = dict(
            conv_dim=[144, 144],
            conv_kernel=[5, 3],
            conv_stride=[2, 1],  # 20 ms frames: 40 ms leave too few frames per character for CTC to learn fast
            hidden_size=144,
            num_hidden_layers=4,
            num_attention_heads=4,
            intermediate_size=384,
            num_conv_pos_embeddings=32,
            num_conv_pos_embedding_groups=8,
            # No dropout: minutes of training underfit, and CPU dropout masks cost ~20% of a step.
            hidden_dropout=0.0,
            attention_dropout=0.0,
            final_dropout=0.0,
            num_codevectors_per_group=64,
            codevector_dim=64,
            proj_codevector_dim=64,
            num_negatives=30,
            mask_time_length=4,
            mask_time_prob=0.5,
            max_gumbel_temperature=2.0,
            min_gumbel_temperature=0.5,
            gumbel_temperature_decay=0.995,
        )
        return cls(**{**settings, **overrides})

    @classmethod
    def base(cls, **overrides) -> LogMelWav2Vec2Config:
        """wav2vec 2.0 BASE-sized Transformer (12 × 768, ≈95M parameters) over a log-mel conv stem."""
        return cls(**overrides)


__all__ = ["LogMelWav2Vec2Config"]
