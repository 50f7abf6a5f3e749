"""Log-mel wav2vec 2.0 models: the only file that reads the config; it builds the components and the heads."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init

from .configuration import LogMelWav2Vec2Config
from .feature_encoder import ConvFeatureEncoder, FeatureProjection, conv_output_lengths, frame_mask_from_lengths
from .losses import check_ctc_shapes, contrastive_loss, ctc_utterance_losses, diversity_loss
from .masking import compute_span_mask, sample_negative_indices
from .model_folder import CorruptModelFileError, check_weights_files, local_folder
from .outputs import LogMelWav2Vec2BaseModelOutput, LogMelWav2Vec2CTCOutput, LogMelWav2Vec2ForPreTrainingOutput
from .positional import ConvPositionalEmbedding
from .quantizer import GumbelVectorQuantizer
from .transformer import TransformerEncoder

# Everything a Hub folder needs so that each Auto class resolves to the shipped code.
HUB_AUTO_MAP = {
    "AutoConfig": "configuration.LogMelWav2Vec2Config",
    "AutoModel": "model.LogMelWav2Vec2Model",
    "AutoModelForCTC": "model.LogMelWav2Vec2ForCTC",
    "AutoModelForPreTraining": "model.LogMelWav2Vec2ForPreTraining",
    "AutoFeatureExtractor": "feature_extraction.LogMelFeatureExtractor",
    "AutoProcessor": "processing.LogMelWav2Vec2Processor",
}


class LogMelWav2Vec2PreTrainedModel(PreTrainedModel):
    config_class = LogMelWav2Vec2Config
    base_model_prefix = "wav2vec2"
    main_input_name = "input_features"
    input_modalities = "audio"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    # The CTC loss is a per-batch mean, not a sum over tokens: the Trainer must divide it by
    # gradient-accumulation steps and must not multiply it by the world size.
    accepts_loss_kwargs = False

    def __init__(self, config: LogMelWav2Vec2Config, *inputs: Any, **kwargs: Any) -> None:
        config.validate_architecture()  # again: a field may have been changed since the config was built
        super().__init__(config, *inputs, **kwargs)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *args: Any, **kwargs: Any):
        """As `PreTrainedModel.from_pretrained`; a truncated or corrupt weights file raises `CorruptModelFileError`
        (a ValueError) naming the file instead of a bare safetensors header error."""
        folder = local_folder(pretrained_model_name_or_path)
        if folder is not None:
            check_weights_files(folder)
        try:
            return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        except Exception as error:  # safetensors' SafetensorError (downloaded files) is no ValueError/OSError
            if type(error).__name__ != "SafetensorError":
                raise
            raise CorruptModelFileError(
                f"the weights of {pretrained_model_name_or_path} cannot be read ({error}); save or download them again"
            ) from error

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, GumbelVectorQuantizer):
            init.normal_(module.weight_proj.weight, mean=0.0, std=1.0)
            init.zeros_(module.weight_proj.bias)
            init.uniform_(module.codevectors)
        elif isinstance(module, ConvPositionalEmbedding):
            conv = module.conv
            init.normal_(
                conv.parametrizations.weight.original1,
                mean=0.0,
                std=2 * math.sqrt(1 / (conv.kernel_size[0] * conv.in_channels)),
            )
            init.constant_(conv.parametrizations.weight.original0, 1.0)
            init.zeros_(conv.bias)
        elif isinstance(module, nn.Conv1d):
            init.kaiming_normal_(module.weight)
            if module.bias is not None:
                bound = 1 / math.sqrt(module.in_channels * module.kernel_size[0] / module.groups)
                init.uniform_(module.bias, a=-bound, b=bound)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, LogMelWav2Vec2Model):
            init.uniform_(module.masked_spec_embed)

    def encoder_lengths(self, mel_lengths: torch.Tensor) -> torch.Tensor:
        """(B,) valid log-mel frames -> (B,) valid encoder frames (= the logits' valid length; 0 when too short)."""
        return conv_output_lengths(torch.as_tensor(mel_lengths), self.config.conv_kernel, self.config.conv_stride)

    def save_pretrained(self, save_directory: Any, *args: Any, **kwargs: Any) -> None:
        # register_for_auto_class writes only AutoConfig and this head into auto_map; a Hub folder
        # must resolve every Auto class to the shipped code.
        self.config.auto_map = dict(HUB_AUTO_MAP)
        super().save_pretrained(save_directory, *args, **kwargs)


class LogMelWav2Vec2Model(LogMelWav2Vec2PreTrainedModel):
    """Log-mel frames -> conv feature encoder -> projection -> (masking) -> Transformer."""

    def __init__(self, config: LogMelWav2Vec2Config) -> None:
        super().__init__(config)
        self.feature_encoder = ConvFeatureEncoder(
            config.num_mel_bins, config.conv_dim, config.conv_kernel, config.conv_stride, config.conv_bias
        )
        self.feature_projection = FeatureProjection(
            config.conv_dim[-1], config.hidden_size, config.feat_proj_dropout, config.layer_norm_eps
        )
        self.masked_spec_embed = nn.Parameter(torch.empty(config.hidden_size))
        self.encoder = TransformerEncoder(
            hidden_size=config.hidden_size,
            num_layers=config.num_hidden_layers,
            num_heads=config.num_attention_heads,
            intermediate_size=config.intermediate_size,
            pos_kernel=config.num_conv_pos_embeddings,
            pos_groups=config.num_conv_pos_embedding_groups,
            position_embedding=config.position_embedding,
            hidden_dropout=config.hidden_dropout,
            attention_dropout=config.attention_dropout,
            activation_dropout=config.activation_dropout,
            layerdrop=config.layerdrop,
            layer_norm_eps=config.layer_norm_eps,
        )
        self.post_init()

    def freeze_feature_encoder(self) -> None:
        """Stop gradients into the conv feature encoder (common when fine-tuning a pretrained encoder)."""
        self.feature_encoder.freeze()

    def extract_features(
        self, input_features: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Check the features, run the conv feature encoder: (B, T_mel, n_mels) -> (B, T, C) and (B,) valid frames.

        Raises ValueError for a wrong shape or mel-bin count, or an utterance too short for the encoder.
        """
        if input_features.ndim != 3:
            raise ValueError(
                f"input_features must be (batch, frames, {self.config.num_mel_bins}) log-mel features, got shape "
                f"{tuple(input_features.shape)}; for one utterance add a batch dimension (features[None])."
            )
        if input_features.shape[-1] != self.config.num_mel_bins:
            raise ValueError(
                f"input_features have {input_features.shape[-1]} mel bins per frame, but the model expects "
                f"{self.config.num_mel_bins} (config.num_mel_bins): use the feature extractor saved with the model."
            )
        if attention_mask is None:
            mel_lengths = torch.full((input_features.shape[0],), input_features.shape[1], device=input_features.device)
        else:
            mel_lengths = attention_mask.sum(-1).long()
        if not torch.compiler.is_compiling():  # the check reads tensor data, which would break a compiled graph
            self._check_long_enough(mel_lengths)
        return self.feature_encoder(input_features, mel_lengths)

    def _check_long_enough(self, mel_lengths: torch.Tensor) -> None:
        too_short = (self.encoder_lengths(mel_lengths) <= 0).nonzero().flatten().tolist()
        if too_short:
            raise ValueError(
                f"Utterance(s) {too_short} have {[int(mel_lengths[i]) for i in too_short]} log-mel frames, too few "
                f"for the conv feature encoder (kernels {self.config.conv_kernel}): each needs at least 1 frame of "
                f"audio ({self.config.mel_hop_length} samples)."
            )

    def contextualize(
        self,
        extract: torch.Tensor,
        lengths: torch.Tensor,
        padded: bool = True,
        mask_time_indices: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> LogMelWav2Vec2BaseModelOutput:
        """Conv features (B, T, C) with (B,) valid frames -> projection -> (masking) -> Transformer.

        padded: False when every utterance fills all T frames (attention then needs no mask).
        mask_time_indices: (B, T) bool frames to replace by the mask embedding (pretraining); SpecAugment otherwise.
        """
        frame_mask = frame_mask_from_lengths(lengths, extract.shape[1])  # (B, T)
        hidden, normed = self.feature_projection(extract)
        hidden = self._mask_hidden_states(hidden, lengths, mask_time_indices)
        hidden, all_hidden, attentions = self.encoder(
            hidden,
            frame_mask if padded else None,
            implementation=self.config._attn_implementation or "sdpa",
            output_hidden_states=bool(output_hidden_states),
            output_attentions=bool(output_attentions),
        )
        return LogMelWav2Vec2BaseModelOutput(
            last_hidden_state=hidden,
            extract_features=normed,
            frame_mask=frame_mask,
            hidden_states=all_hidden,
            attentions=attentions,
        )

    def forward(
        self,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        mask_time_indices: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> LogMelWav2Vec2BaseModelOutput | tuple:
        """input_features: (B, T_mel, n_mels); attention_mask: (B, T_mel); mask_time_indices: (B, T) bool."""
        extract, lengths = self.extract_features(input_features, attention_mask)
        output = self.contextualize(
            extract, lengths, attention_mask is not None, mask_time_indices, output_attentions, output_hidden_states
        )
        return output if return_dict is not False else output.to_tuple()

    def _mask_hidden_states(
        self, hidden: torch.Tensor, lengths: torch.Tensor, mask_time_indices: torch.Tensor | None
    ) -> torch.Tensor:
        """Replace masked frames by the learned mask embedding; SpecAugment-style masks when training."""
        config = self.config
        if mask_time_indices is not None:
            return torch.where(
                mask_time_indices.to(hidden.device)[..., None], self.masked_spec_embed.to(hidden.dtype), hidden
            )
        if not (self.training and config.apply_spec_augment):
            return hidden
        batch, time, channels = hidden.shape
        if config.mask_time_prob > 0:
            time_mask = compute_span_mask(
                lengths, time, config.mask_time_prob, config.mask_time_length, config.mask_time_min_masks
            ).to(hidden.device)
            hidden = torch.where(time_mask[..., None], self.masked_spec_embed.to(hidden.dtype), hidden)
        if config.mask_feature_prob > 0:
            channel_mask = compute_span_mask(
                torch.full((batch,), channels),
                channels,
                config.mask_feature_prob,
                config.mask_feature_length,
                config.mask_feature_min_masks,
            ).to(hidden.device)
            hidden = hidden.masked_fill(channel_mask[:, None, :], 0.0)
        return hidden


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
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def freeze_feature_encoder(self) -> None:
        self.wav2vec2.freeze_feature_encoder()

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
        outputs = self.wav2vec2(
            input_features,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.lm_head(self.dropout(outputs.last_hidden_state))
        logit_lengths = outputs.frame_mask.sum(-1)
        loss = utterance_losses = feasible = None
        if labels is not None:
            check_ctc_shapes(logits, logit_lengths, labels)  # before the id check, which reads (B, S) labels
            if not torch.compiler.is_compiling():  # reads tensor data: eager only, as the length check
                self._check_labels(labels)
            config = self.config
            utterance_losses, feasible = ctc_utterance_losses(
                logits, logit_lengths, labels, config.pad_token_id, per_label=config.ctc_loss_reduction == "mean"
            )
            # An utterance without alignment counts as an infinite loss unless config.ctc_zero_infinity.
            batch_losses = utterance_losses
            if not config.ctc_zero_infinity:
                batch_losses = torch.where(feasible.to(batch_losses.device), batch_losses, float("inf"))
            loss = batch_losses.mean() if config.ctc_loss_reduction == "mean" else batch_losses.sum()
        output = LogMelWav2Vec2CTCOutput(
            loss=loss,
            logits=logits,
            logit_lengths=logit_lengths,
            utterance_losses=utterance_losses,
            feasible=feasible,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict is not False else output.to_tuple()

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
