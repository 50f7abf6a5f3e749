"""Log-mel wav2vec 2.0 heads: contrastive pretraining and CTC, over the encoder of `base_model.py`."""

from __future__ import annotations

import torch
from torch import nn

from .base_model import LogMelWav2Vec2Model, LogMelWav2Vec2PreTrainedModel
from .configuration import LogMelWav2Vec2Config
from .feature_encoder import frame_mask_from_lengths
from .losses import check_ctc_shapes, contrastive_loss, ctc_utterance_losses, diversity_loss
from .masking import compute_span_mask, sample_negative_indices
from .outputs import LogMelWav2Vec2CTCOutput, LogMelWav2Vec2ForPreTrainingOutput
from .quantizer import GumbelVectorQuantizer


class LogMelWav2Vec2ForPreTraining(LogMelWav2Vec2PreTrainedModel):
    """Contrastive pretraining: masked Transformer outputs must identify their quantized targets."""

    def __init__(self, config: LogMelWav2Vec2Config) -> None:
        super().__init__(config)
        self.wav2vec2 = LogMelWav2Vec2Model(config)
        self.quantizer = GumbelVectorQuantizer(
            config.conv_dim[-1], config.num_codevector_groups, config.num_codevectors_per_group, config.codevector_dim
        )
        self.project_hid = nn.Linear(config.hidden_size, config.proj_codevector_dim)
        self.project_q = nn.Linear(config.codevector_dim, config.proj_codevector_dim)
        self.quantizer.set_temperature(config.max_gumbel_temperature)
        self.post_init()

    def masking_settings(self) -> dict[str, float | int]:
        """Span masking and negatives of pretraining: mask_prob, span_length, min_masks (>= 1), num_negatives."""
        config = self.config
        return {
            "mask_prob": config.mask_time_prob,
            "span_length": config.mask_time_length,
            "min_masks": max(config.mask_time_min_masks, 1),
            "num_negatives": config.num_negatives,
        }

    def set_gumbel_temperature(self, temperature: float) -> None:
        self.quantizer.set_temperature(temperature)

    def gumbel_temperature_at(self, step: int) -> float:
        """max(max_T · decay^step, min_T): the wav2vec 2.0 schedule."""
        config = self.config
        return max(config.max_gumbel_temperature * config.gumbel_temperature_decay**step, config.min_gumbel_temperature)

    def freeze_feature_encoder(self) -> None:
        self.wav2vec2.freeze_feature_encoder()

    @torch.no_grad()
    def codevector_ids(self, input_features: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The codevector each quantizer group picks for each encoder frame: the targets `forward` contrasts.

        Args:
            input_features: (B, T_mel, n_mels); attention_mask: (B, T_mel).
        Returns:
            (B, T, G) long, in [0, num_codevectors_per_group) on valid frames and -1 on padding (G =
            num_codevector_groups). The argmax in evaluation mode; a Gumbel-softmax sample in training mode.
        """
        extract, lengths = self.wav2vec2.extract_features(input_features, attention_mask)
        _, normed = self.wav2vec2.feature_projection(extract)
        return self.quantizer.codes(normed, frame_mask_from_lengths(lengths, extract.shape[1]))

    def forward(
        self,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        mask_time_indices: torch.Tensor | None = None,
        sampled_negative_indices: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> LogMelWav2Vec2ForPreTrainingOutput | tuple:
        """input_features: (B, T_mel, n_mels); mask_time_indices: (B, T) bool; sampled_negative_indices: (B, T, K).

        Masks and negatives are drawn here when not given (collators give them, drawn with a seeded generator).
        """
        config = self.config
        extract, lengths = self.wav2vec2.extract_features(input_features, attention_mask)
        masking = self.masking_settings()
        if mask_time_indices is None:
            mask_time_indices = compute_span_mask(
                lengths.cpu(), extract.shape[1], masking["mask_prob"], masking["span_length"], masking["min_masks"]
            )
        if sampled_negative_indices is None:
            sampled_negative_indices = sample_negative_indices(
                mask_time_indices, lengths.cpu(), masking["num_negatives"]
            )
        device = input_features.device
        mask_time_indices = mask_time_indices.to(device=device, dtype=torch.bool)
        outputs = self.wav2vec2.contextualize(
            extract, lengths, attention_mask is not None, mask_time_indices, output_attentions, output_hidden_states
        )
        context = self.project_hid(outputs.last_hidden_state)  # (B, T, P)
        quantized, perplexity, code_ids = self.quantizer(outputs.extract_features, outputs.frame_mask)
        targets = self.project_q(quantized.to(context.dtype))  # (B, T, P)
        loss_sum, correct = contrastive_loss(
            context,
            targets,
            sampled_negative_indices.to(device),
            mask_time_indices,
            config.contrastive_logits_temperature,
            target_ids=code_ids,
        )
        num_masked = mask_time_indices.sum()
        contrastive = loss_sum / num_masked.clamp(min=1)
        diversity = diversity_loss(perplexity, config.num_codevectors)
        output = LogMelWav2Vec2ForPreTrainingOutput(
            loss=contrastive + config.diversity_loss_weight * diversity,
            contrastive_loss=contrastive.detach(),
            diversity_loss=diversity.detach(),
            codevector_perplexity=perplexity.detach(),
            contrastive_accuracy=(correct.float() / num_masked.clamp(min=1)).detach(),
            num_masked_frames=num_masked,
            projected_states=context,
            projected_quantized_states=targets,
            mask_time_indices=mask_time_indices,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict is not False else output.to_tuple()


class LogMelWav2Vec2ForCTC(LogMelWav2Vec2PreTrainedModel):
    """Encoder + linear CTC head over characters; blank = config.pad_token_id."""

    def __init__(self, config: LogMelWav2Vec2Config) -> None:
        super().__init__(config)
        self.wav2vec2 = LogMelWav2Vec2Model(config)
        self.dropout = nn.Dropout(config.final_dropout)
        # ctc_upsampling > 1: each encoder frame gives that many logit frames (one V-wide slice of the head each)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size * config.ctc_upsampling)
        self._base_trainable: dict[str, bool] | None = None  # while frozen: what freeze_base_model(False) restores
        self.post_init()

    def freeze_feature_encoder(self) -> None:
        self.wav2vec2.freeze_feature_encoder()

    @property
    def base_model_frozen(self) -> bool:
        return self._base_trainable is not None

    def freeze_base_model(self, frozen: bool = True) -> None:
        """Train the CTC head alone (transformers' `Wav2Vec2ForCTC.freeze_base_model`); `frozen=False` gives every
        encoder parameter back the trainability it had before (a frozen feature encoder stays frozen)."""
        if frozen and self._base_trainable is None:
            self._base_trainable = {name: p.requires_grad for name, p in self.wav2vec2.named_parameters()}
            self.wav2vec2.requires_grad_(False)
        elif not frozen and self._base_trainable is not None:
            for name, parameter in self.wav2vec2.named_parameters():
                parameter.requires_grad_(self._base_trainable[name])
            self._base_trainable = None

    def set_spec_augment(self, mask_time_prob: float | None = None, mask_feature_prob: float | None = None) -> None:
        """Change SpecAugment's time/channel masking (None keeps a value) for fine-tuning.

        Without time masking the mask embedding gets no gradient, so it is frozen: a trainable parameter without
        gradient breaks DDP when find_unused_parameters is off (the Trainer turns it off with activation
        checkpointing).
        """
        config = self.config
        if mask_time_prob is not None:
            config.mask_time_prob = mask_time_prob
        if mask_feature_prob is not None:
            config.mask_feature_prob = mask_feature_prob
        uses_mask_embedding = config.apply_spec_augment and config.mask_time_prob > 0
        self.wav2vec2.masked_spec_embed.requires_grad_(uses_mask_embedding)

    def forward(
        self,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> LogMelWav2Vec2CTCOutput | tuple:
        """input_features: (B, T_mel, n_mels); labels: (B, S) ids, -100 where padded -> logits (B, T, V)."""
        config = self.config
        # Training only: an evaluation loss measures the output that decoding uses, comparable across settings.
        intermediate = config.interctc_layer if labels is not None and self.training else 0
        outputs = self.wav2vec2(
            input_features,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states or intermediate > 0,
        )
        logits = self._ctc_logits(outputs.last_hidden_state)
        logit_lengths = outputs.frame_mask.sum(-1) * config.ctc_upsampling
        loss = utterance_losses = feasible = None
        if labels is not None:
            check_ctc_shapes(logits, logit_lengths, labels)  # before the id check, which reads (B, S) labels
            if not torch.compiler.is_compiling():  # reads tensor data: eager only, as the length check
                self._check_labels(labels)
            utterance_losses, feasible = self._ctc_losses(logits, logit_lengths, labels)
            loss = self._batch_loss(utterance_losses, feasible)
            if intermediate:
                # hidden_states[k]: the output of the first k layers, before the final LayerNorm
                hidden = self.wav2vec2.encoder.layer_norm(outputs.hidden_states[intermediate])
                inter_losses, _ = self._ctc_losses(self._ctc_logits(hidden), logit_lengths, labels)
                weight = config.interctc_weight
                loss = (1 - weight) * loss + weight * self._batch_loss(inter_losses, feasible)
        output = LogMelWav2Vec2CTCOutput(
            loss=loss,
            logits=logits,
            logit_lengths=logit_lengths,
            utterance_losses=utterance_losses,
            feasible=feasible,
            hidden_states=outputs.hidden_states if output_hidden_states else None,
            attentions=outputs.attentions,
        )
        return output if return_dict is not False else output.to_tuple()

    def _ctc_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, C) encoder states -> (B, T * r, V) logits: frame t's r head slices in order."""
        logits = self.lm_head(self.dropout(hidden))  # (B, T, V * r)
        batch, frames, _ = logits.shape
        return logits.reshape(batch, frames * self.config.ctc_upsampling, -1)

    def _ctc_losses(
        self, logits: torch.Tensor, logit_lengths: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,) CTC losses (per label with reduction "mean") and (B,) whether each utterance has an alignment."""
        config = self.config
        return ctc_utterance_losses(
            logits, logit_lengths, labels, config.pad_token_id, per_label=config.ctc_loss_reduction == "mean"
        )

    def _batch_loss(self, utterance_losses: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
        """The batch's loss; an utterance without alignment counts as infinite unless config.ctc_zero_infinity."""
        if not self.config.ctc_zero_infinity:
            utterance_losses = torch.where(feasible.to(utterance_losses.device), utterance_losses, float("inf"))
        return utterance_losses.mean() if self.config.ctc_loss_reduction == "mean" else utterance_losses.sum()

    def _check_labels(self, labels: torch.Tensor) -> None:
        """Reject label ids the CTC head cannot emit, naming the utterance and the id."""
        vocab_size, blank = self.config.vocab_size, self.config.pad_token_id
        bad = ((labels >= vocab_size) | ((labels < 0) & (labels != -100)) | (labels == blank)).nonzero()
        if len(bad):
            row, col = bad[0].tolist()
            value = int(labels[row, col])
            reason = "is the CTC blank (pad) id" if value == blank else f"is outside the vocabulary [0, {vocab_size})"
            raise ValueError(
                f"labels of utterance {row} hold id {value} at position {col}, which {reason}; pad labels with -100."
            )


for _cls, _auto in (
    (LogMelWav2Vec2Model, "AutoModel"),
    (LogMelWav2Vec2ForCTC, "AutoModelForCTC"),
    (LogMelWav2Vec2ForPreTraining, "AutoModelForPreTraining"),
):
    _cls.register_for_auto_class(_auto)

__all__ = [
    "LogMelWav2Vec2PreTrainedModel",
    "LogMelWav2Vec2Model",
    "LogMelWav2Vec2ForPreTraining",
    "LogMelWav2Vec2ForCTC",
]
