"""ModelOutput dataclasses of the log-mel wav2vec 2.0 models."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.utils import ModelOutput


@dataclass
class LogMelWav2Vec2BaseModelOutput(ModelOutput):
    """
    last_hidden_state: (B, T, hidden_size) Transformer output.
    extract_features: (B, T, conv_dim[-1]) normalised conv features (the quantizer's input).
    frame_mask: (B, T) bool valid frames after the conv encoder.
    hidden_states / attentions: per layer, when asked.
    """

    last_hidden_state: torch.FloatTensor | None = None
    extract_features: torch.FloatTensor | None = None
    frame_mask: torch.BoolTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class LogMelWav2Vec2ForPreTrainingOutput(ModelOutput):
    """
    loss: contrastive + diversity_loss_weight * diversity, per masked frame.
    projected_states / projected_quantized_states: (B, T, proj_codevector_dim).
    codevector_perplexity: scalar in [G, G·V].
    contrastive_accuracy: fraction of masked frames whose own target scored highest (chance 1/(K+1)).
    num_masked_frames: masked frames in this batch (for normalising across ranks).
    """

    loss: torch.FloatTensor | None = None
    contrastive_loss: torch.FloatTensor | None = None
    diversity_loss: torch.FloatTensor | None = None
    codevector_perplexity: torch.FloatTensor | None = None
    contrastive_accuracy: torch.FloatTensor | None = None
    num_masked_frames: torch.LongTensor | None = None
    projected_states: torch.FloatTensor | None = None
    projected_quantized_states: torch.FloatTensor | None = None
    mask_time_indices: torch.BoolTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class LogMelWav2Vec2CTCOutput(ModelOutput):
    """
    loss: CTC loss (reduction per config.ctc_loss_reduction), when labels are given.
    logits: (B, T, vocab_size).
    logit_lengths: (B,) valid frames of the logits.
    utterance_losses: (B,) each utterance's CTC loss (per label with "mean" reduction); 0 where not feasible.
    feasible: (B,) bool, whether the labels fit the frames (frames >= labels + adjacent repeats).
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    logit_lengths: torch.LongTensor | None = None
    utterance_losses: torch.FloatTensor | None = None
    feasible: torch.BoolTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
