"""The shared `PreTrainedModel` base (weights init, lengths, checked loading, Hub auto_map) and the headless
log-mel wav2vec 2.0 encoder. With `model.py` (the heads), the only files that read the config."""

from __future__ import annotations

import copy
import math
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.dynamic_module_utils import get_relative_import_files

from .configuration import LogMelWav2Vec2Config
from .feature_encoder import ConvFeatureEncoder, FeatureProjection, conv_output_lengths, frame_mask_from_lengths
from .masking import compute_span_mask
from .model_folder import CorruptModelFileError, check_weights_files, local_folder
from .outputs import LogMelWav2Vec2BaseModelOutput
from .pipeline_entry import HUB_CUSTOM_PIPELINES, pipelines_not_served_here
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
    # The unit of FSDP sharding and of `device_map` placement.
    _no_split_modules = ["EncoderLayer"]

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

    def get_input_embeddings(self) -> None:
        """None: an audio model has no token embedding. (transformers' default raises NotImplementedError, which
        accelerate's FSDP2 preparation does not catch.)"""
        return None

    def get_output_embeddings(self) -> None:
        """None: the CTC head is no token embedding to tie or resize."""
        return None

    def encoder_lengths(self, mel_lengths: torch.Tensor) -> torch.Tensor:
        """(B,) valid log-mel frames -> (B,) valid encoder frames (0 when too short)."""
        return conv_output_lengths(torch.as_tensor(mel_lengths), self.config.conv_kernel, self.config.conv_stride)

    def logit_lengths(self, mel_lengths: torch.Tensor) -> torch.Tensor:
        """(B,) valid log-mel frames -> (B,) valid CTC logit frames: encoder frames × config.ctc_upsampling."""
        return self.encoder_lengths(mel_lengths) * self.config.ctc_upsampling

    def save_pretrained(self, save_directory: Any, *args: Any, **kwargs: Any) -> None:
        # register_for_auto_class writes only AutoConfig and this head into auto_map; a Hub folder
        # must resolve every Auto class to the shipped code.
        self.config.auto_map = dict(HUB_AUTO_MAP)
        # config.json also names the shipped ASR pipeline. In memory the config keeps only what loading the folder
        # in this process gives: with hf_asr imported, an entry there would make `pipeline(model=this model)`
        # demand trust_remote_code for a pipeline hf_asr registers itself (see pipeline_entry.py).
        self.config.custom_pipelines = copy.deepcopy(HUB_CUSTOM_PIPELINES)
        try:
            super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            self.config.custom_pipelines = pipelines_not_served_here(self.config.custom_pipelines)
            if not self.config.custom_pipelines:
                del self.config.custom_pipelines
        copy_model_code(save_directory)


def copy_model_code(save_directory: Any) -> None:
    """Copy every module the auto_map and the pipeline entry name, with its relative imports, into
    `save_directory` where missing.

    transformers copies only the saved class's file and its imports: a bare `LogMelWav2Vec2Model` (this file)
    would leave out `model.py`, which the folder's AutoModelForCTC/AutoModelForPreTraining entries name.
    """
    here = Path(__file__).parent
    targets = [*HUB_AUTO_MAP.values(), *(entry["impl"] for entry in HUB_CUSTOM_PIPELINES.values())]
    for module in sorted({target.split(".")[0] for target in targets}):
        source = here / f"{module}.py"
        for file in [source, *map(Path, get_relative_import_files(str(source)))]:
            target = Path(save_directory) / file.name
            if not target.exists():
                shutil.copyfile(file, target)


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
            conv_module_kernel=config.conv_module_kernel,
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
