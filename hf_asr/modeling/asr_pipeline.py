"""ASR pipeline that uses the KenLM decoder saved in a model folder.

transformers 5.x never loads an LM for folders it saved itself (it looks for a `processor_class` ending in
"WithLM", which v5 no longer writes), and its `Wav2Vec2ProcessorWithLM` rejects our feature extractor. So
`pipeline("automatic-speech-recognition", ...)` builds `LMSpeechRecognitionPipeline`: with hf_asr imported through
`register_pipeline()` (hf_asr/decoding/pipeline.py), elsewhere from the folder's own copy of this file, which its
config.json names (`pipeline_entry.py`; needs `trust_remote_code=True`). The subclass:

- loads `LMDecoder.from_pretrained(folder)` when the model folder has `language_model/` and no `decoder=` is given
  (`decoder=` accepts an `LMDecoder`, a pyctcdecode decoder or a folder path; `use_lm=False` forces greedy);
- decodes through transformers' own "ctc_with_lm" path (chunking, strides, word timestamps), which calls
  `LMDecoder.decode_beams`;
- blanks out padded frames using the model's `logit_lengths`, so batch_size > 1 gives the same text as batch 1;
- reads local files and the bytes of an audio file with soundfile, so wav/flac need no `ffmpeg` program;
- moves an `LMDecoder` to the model's GPU, where its `beam_search="batched"` then runs.

Long audio: for hf_asr CTC models, input over a minute (`LONG_AUDIO_S`) is cut into `AUTO_CHUNK_S` chunks when no
`chunk_length_s` is given (`chunk_length_s=0` never chunks): attention over a whole 10-minute file costs ~8× the
chunks on 2 CPU cores, and chunks are closer to the utterance lengths the model was trained on. The LM decoder cuts
logits longer than its `max_segment_frames` at pauses and decodes the segments in parallel, one forked process per
CPU (`decoder_kwargs={"num_processes": 1}` keeps them in this process), with a progress bar for files over a minute.

For non-CTC models, and CTC models of other types without a decoder, it behaves like the parent class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers.pipelines.automatic_speech_recognition import AutomaticSpeechRecognitionPipeline, rescale_stride

from .audio_files import read_audio
from .configuration import LogMelWav2Vec2Config
from .lm_decoder import LMDecoder
from .lm_decoder_folder import find_saved_decoder
from .progress import LONG_AUDIO_S, AudioProgress

HF_ASR_MODEL_TYPE = LogMelWav2Vec2Config.model_type
AUTO_CHUNK_S = 20.0  # chunk length for long audio given without `chunk_length_s` (stride: a sixth, as transformers)


class LMSpeechRecognitionPipeline(AutomaticSpeechRecognitionPipeline):
    """`AutomaticSpeechRecognitionPipeline` + the model folder's KenLM decoder (see module docstring)."""

    def __init__(
        self,
        model: Any,
        feature_extractor: Any = None,
        tokenizer: Any = None,
        decoder: LMDecoder | str | os.PathLike | Any | None = None,  # Any: pyctcdecode or FlashlightLMDecoder
        device: Any = None,
        use_lm: bool = True,
        **kwargs: Any,
    ) -> None:
        if not use_lm:
            decoder = None
        elif isinstance(decoder, (str, os.PathLike)):
            decoder = LMDecoder.from_pretrained(decoder)
        elif decoder is None:
            decoder = saved_decoder(model)
        own = hasattr(decoder, "labels") and hasattr(decoder, "decode_beams")  # LMDecoder or FlashlightLMDecoder
        # Our decoder is attached after the parent's __init__, which would log a pyctcdecode deprecation for it.
        super().__init__(model, feature_extractor, tokenizer, decoder=None if own else decoder, device=device, **kwargs)
        if own and self.type == "ctc":
            vocab_size = self.model.config.vocab_size
            if len(decoder.labels) != vocab_size:
                raise ValueError(
                    f"the LM decoder has {len(decoder.labels)} labels but the model outputs {vocab_size} classes; "
                    "rebuild the decoder from this model's tokenizer"
                )
            self.decoder, self.type = decoder, "ctc_with_lm"
            if isinstance(decoder, LMDecoder) and self.device.type != "cpu":
                decoder.to(self.device)  # beam_search="batched" then decodes on the model's GPU

    def preprocess(self, inputs: Any, chunk_length_s: float | None = None, stride_length_s: Any = None) -> Any:
        # transformers reads a local file or bytes by piping them through the `ffmpeg` program, which is often
        # missing where only FFmpeg's libraries are installed: read them with soundfile instead.
        if isinstance(inputs, (bytes, bytearray)):
            waveform, rate = read_audio(bytes(inputs))
            inputs = {"raw": waveform, "sampling_rate": rate}
        elif isinstance(inputs, (str, os.PathLike)) and Path(inputs).is_file():
            waveform, rate = read_audio(inputs)
            inputs = {"raw": waveform, "sampling_rate": rate}
        if chunk_length_s is None:
            seconds = self._duration_s(inputs)
            chunk_length_s = AUTO_CHUNK_S if seconds is not None and seconds > LONG_AUDIO_S else 0
        return super().preprocess(inputs, chunk_length_s=chunk_length_s, stride_length_s=stride_length_s)

    def _duration_s(self, inputs: Any) -> float | None:
        """Seconds of audio in an hf_asr CTC model's `inputs` (a waveform or a dict with one), else None (also for
        a dict with a "stride": a piece of a stream, chunked by its caller)."""
        if self.type not in {"ctc", "ctc_with_lm"} or self.model.config.model_type != HF_ASR_MODEL_TYPE:
            return None
        rate = self.feature_extractor.sampling_rate
        if isinstance(inputs, dict):
            if "stride" in inputs or "sampling_rate" not in inputs:
                return None
            inputs, rate = inputs.get("raw", inputs.get("array")), inputs["sampling_rate"]
        if not isinstance(inputs, (np.ndarray, torch.Tensor)) or inputs.ndim == 0:
            return None
        return max(inputs.shape) / rate  # samples are the longest axis of mono (N,) and stereo (2, N) alike

    def _forward(self, model_inputs: dict, return_timestamps: bool | str = False, **generate_kwargs: Any) -> dict:
        if self.type not in {"ctc", "ctc_with_lm"}:
            return super()._forward(model_inputs, return_timestamps=return_timestamps, **generate_kwargs)
        # The parent's CTC branch, plus: frames past each utterance's `logit_lengths` (batch padding) become blank.
        attention_mask = model_inputs.pop("attention_mask", None)
        stride = model_inputs.pop("stride", None)
        model_inputs.pop("num_frames", None)
        is_last = model_inputs.pop("is_last")
        inputs = {self.model.main_input_name: model_inputs.pop(self.model.main_input_name)}
        outputs = self.model(**inputs, attention_mask=attention_mask)
        lengths = getattr(outputs, "logit_lengths", None)
        logits = blank_padded_frames(outputs.logits, lengths, self.model.config.pad_token_id)
        out = {"logits": logits} if self.type == "ctc_with_lm" else {"tokens": logits.argmax(dim=-1)}
        if stride is not None:
            ratio = 1 / self._align_to
            out["stride"] = (
                rescale_stride([stride], ratio)[0] if isinstance(stride, tuple) else rescale_stride(stride, ratio)
            )
        return {"is_last": is_last, **out, **model_inputs}

    def postprocess(self, model_outputs: list[dict], decoder_kwargs: dict | None = None, **kwargs: Any) -> dict:
        if self.type == "ctc_with_lm" and isinstance(self.decoder, LMDecoder):
            frames_per_second = self.feature_extractor.sampling_rate / self._align_to
            bar = AudioProgress("LM decoding", leave=False)
            decoder_kwargs = {
                "num_processes": None,  # long files only: shorter ones are one segment, decoded in this process
                "progress": lambda done, total: bar.update(done / frames_per_second, total / frames_per_second),
                **(decoder_kwargs or {}),
            }
        return super().postprocess(model_outputs, decoder_kwargs=decoder_kwargs, **kwargs)


def blank_padded_frames(logits: torch.Tensor, lengths: torch.Tensor | None, blank_id: int) -> torch.Tensor:
    """(B, T, V) logits with frames t >= lengths[b] replaced by a certain blank (0 for blank, -1e4 elsewhere)."""
    if lengths is None:
        return logits
    padded = torch.arange(logits.shape[1], device=logits.device)[None, :] >= lengths.to(logits.device)[:, None]
    if not padded.any():
        return logits
    blank_row = torch.full((logits.shape[-1],), -1e4, dtype=logits.dtype, device=logits.device)
    blank_row[blank_id] = 0.0
    return torch.where(padded[..., None], blank_row, logits)


def saved_decoder(model: Any) -> LMDecoder | None:
    """The LMDecoder saved with `model` (its local folder, or its Hub repo for hf_asr models), else None.

    Hub repos are only asked for hf_asr's own model type, so other models' pipelines make no extra requests.
    """
    name = getattr(model, "name_or_path", None)
    if not name:
        return None
    if not Path(name).is_dir() and getattr(model.config, "model_type", None) != HF_ASR_MODEL_TYPE:
        return None
    folder = find_saved_decoder(name)
    return None if folder is None else LMDecoder.from_pretrained(folder)


__all__ = ["LMSpeechRecognitionPipeline", "blank_padded_frames", "saved_decoder", "AUTO_CHUNK_S"]
