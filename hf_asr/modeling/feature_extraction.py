"""Waveform -> normalised log-mel frames, time-major, with a frame attention mask."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torchaudio
from transformers import BatchFeature, SequenceFeatureExtractor

from .value_rules import Rule, check_values

# Integer PCM formats and the divisor that maps them to [-1, 1).
_PCM_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31, np.dtype(np.int8): 2.0**7}
_LOG_FLOOR = 1e-6  # keeps log() finite on digital silence
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SIZE = Rule(int, low=1)
# The options and what each allows (win_length <= n_fft and f_min < f_max <= rate / 2 are checked after these).
OPTION_RULES: dict[str, Rule] = {
    "feature_size": _SIZE,
    "sampling_rate": _SIZE,
    "padding_value": Rule(float),
    "n_fft": _SIZE,
    "win_length": _SIZE,
    "hop_length": _SIZE,
    "f_min": Rule(float, low=0),
    "f_max": Rule(float, low=0, low_open=True, optional=True),
    "do_normalize": Rule(bool),
    "return_attention_mask": Rule(bool),
}


class LogMelFeatureExtractor(SequenceFeatureExtractor):
    """Log-mel features for the log-mel wav2vec 2.0 encoder, computed with torchaudio.

    Frames are 25 ms windows every `hop_length` samples (10 ms at 16 kHz); an utterance of N samples
    gives 1 + N // hop_length frames. The STFT pads with zeros (not reflection), so a frame near the
    end sees the same zeros whether the utterance is alone or padded in a batch. Each utterance is
    normalised per mel bin over its valid frames; padded frames hold `padding_value`.

    Call it on one 1-D waveform or a list of them, at `sampling_rate`. Torch tensors stay on their
    device (GPU features for GPU audio). Returns `input_features` (B, T, n_mels) and `attention_mask` (B, T).
    """

    model_input_names = ["input_features", "attention_mask"]

    def __init__(
        self,
        feature_size: int = 80,
        sampling_rate: int = 16000,
        padding_value: float = 0.0,
        n_fft: int = 400,
        win_length: int = 400,
        hop_length: int = 160,
        f_min: float = 0.0,
        f_max: float | None = None,
        do_normalize: bool = True,
        return_attention_mask: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            feature_size=feature_size,
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        self.f_min, self.f_max = f_min, f_max
        self.do_normalize = do_normalize
        self._mel_by_device: dict[str, torch.nn.Module] = {}
        self.check_options()

    def check_options(self) -> None:
        """Raise TypeError/ValueError naming the option, its value and what is allowed (see OPTION_RULES)."""
        name = type(self).__name__
        check_values(name, {option: getattr(self, option, None) for option in OPTION_RULES}, OPTION_RULES)
        if self.win_length > self.n_fft:
            raise ValueError(f"{name}.win_length={self.win_length} is above n_fft={self.n_fft}: expected <= n_fft")
        f_max = self.sampling_rate / 2 if self.f_max is None else self.f_max
        if not self.f_min < f_max <= self.sampling_rate / 2:
            raise ValueError(
                f"{name}: f_min={self.f_min}, f_max={self.f_max} at sampling_rate={self.sampling_rate}: expected "
                f"0 <= f_min < f_max <= sampling_rate / 2 = {self.sampling_rate / 2}"
            )

    def num_frames(self, num_samples: int) -> int:
        """Log-mel frames produced for `num_samples` samples."""
        return 1 + num_samples // self.hop_length

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        output.pop("_mel_by_device", None)
        return output

    def _mel(self, device: torch.device) -> torch.nn.Module:
        key = str(device)
        if key not in self._mel_by_device:
            self._mel_by_device[key] = torchaudio.transforms.MelSpectrogram(
                sample_rate=self.sampling_rate,
                n_fft=self.n_fft,
                win_length=self.win_length,
                hop_length=self.hop_length,
                f_min=self.f_min,
                f_max=self.f_max,
                n_mels=self.feature_size,
                center=True,
                pad_mode="constant",
                power=2.0,
            ).to(device)
        return self._mel_by_device[key]

    def __call__(
        self,
        raw_speech: np.ndarray | torch.Tensor | Sequence[np.ndarray | torch.Tensor | Sequence[float]],
        sampling_rate: int | None = None,
        padding: bool | str = True,
        return_tensors: str | None = None,
        return_attention_mask: bool | None = None,
        resample: bool = False,
        downmix: bool = False,
        **kwargs: Any,
    ) -> BatchFeature:
        """Turn waveforms into padded log-mel features.

        Args:
            raw_speech: one 1-D waveform, or a list of them (numpy, torch or lists of floats).
                Integer PCM (int8/16/32) is scaled to [-1, 1); float16/float64 are cast to float32.
            sampling_rate: rate of `raw_speech` in Hz; required.
            resample: resample audio at another rate with torchaudio instead of raising.
            downmix: average the channels of 2-D (multi-channel) waveforms instead of raising.
        Returns:
            BatchFeature with input_features (B, T, n_mels) and attention_mask (B, T).
        """
        if sampling_rate is None:
            raise ValueError(
                f"{type(self).__name__} needs sampling_rate= (it expects {self.sampling_rate} Hz audio): "
                "a silent guess would give wrong features for audio at any other rate."
            )
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, float, np.number)):
            raise TypeError(f"sampling_rate={sampling_rate!r} ({type(sampling_rate).__name__}): expected a rate in Hz")
        if not (np.isfinite(sampling_rate) and sampling_rate > 0 and float(sampling_rate).is_integer()):
            raise ValueError(f"sampling_rate={sampling_rate!r}: expected a whole, positive number of Hz")
        sampling_rate = int(sampling_rate)
        if sampling_rate != self.sampling_rate and not resample:
            raise ValueError(
                f"Audio is at {sampling_rate} Hz but {type(self).__name__} expects {self.sampling_rate} Hz: "
                f"resample it first (datasets: cast_column('audio', Audio(sampling_rate={self.sampling_rate}))) "
                "or pass resample=True."
            )
        waveforms = [self._check_waveform(w, i, downmix) for i, w in enumerate(self._as_list(raw_speech))]
        _check_finite(waveforms)
        if sampling_rate != self.sampling_rate:
            waveforms = [torchaudio.functional.resample(w, sampling_rate, self.sampling_rate) for w in waveforms]
        features, lengths = self.extract(waveforms)
        _check_finite_features(features)
        if return_attention_mask is None:
            return_attention_mask = self.return_attention_mask
        frame_mask = torch.arange(features.shape[1], device=features.device)[None, :] < lengths[:, None]
        data: dict[str, Any] = {"input_features": features}
        if return_attention_mask:
            data["attention_mask"] = frame_mask.long()
        if not padding:
            data = {k: [v[i, : int(n)] for i, n in enumerate(lengths)] for k, v in data.items()}
        if return_tensors != "pt":
            data = {k: _to_numpy(v) for k, v in data.items()}
        return BatchFeature(data, tensor_type=return_tensors if return_tensors != "pt" or padding else None)

    def extract(self, waveforms: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked float32 mono waveforms -> (features (B, T, n_mels), lengths (B,) in frames)."""
        if not waveforms:
            raise ValueError("extract() got no waveforms: pass a non-empty list of 1-D float32 tensors")
        device = waveforms[0].device
        num_samples = torch.tensor([len(w) for w in waveforms], device=device)
        batch = torch.nn.utils.rnn.pad_sequence(list(waveforms), batch_first=True)  # (B, N) zero padded
        # The power of loud audio (peaks far above 1) overflows float32: compute it on audio scaled to peak <= 1 and
        # add the scale back in the log domain, log(p s² + f) = logaddexp(log p + log s², log f), exact at any scale
        # (f / s² would underflow for s > ~1e16); s = 1 for ordinary audio.
        scale = batch.abs().amax(1).clamp(min=1.0)  # (B,)
        power = self._mel(device)(batch / scale[:, None])  # (B, n_mels, T)
        log_power = torch.log(power) + 2.0 * torch.log(scale)[:, None, None]  # -inf where the power is 0
        features = torch.logaddexp(log_power, torch.tensor(math.log(_LOG_FLOOR), device=device)).transpose(1, 2)
        lengths = 1 + torch.div(num_samples, self.hop_length, rounding_mode="floor")
        mask = (torch.arange(features.shape[1], device=device)[None, :] < lengths[:, None])[..., None]
        if self.do_normalize:
            count = lengths[:, None, None].to(features.dtype)
            mean = (features * mask).sum(1, keepdim=True) / count
            variance = (((features - mean) * mask) ** 2).sum(1, keepdim=True) / count
            features = (features - mean) / torch.sqrt(variance + 1e-5)
        features = torch.where(mask, features, torch.full_like(features, self.padding_value))
        return features, lengths

    @staticmethod
    def _as_list(raw_speech: Any) -> list[Any]:
        if isinstance(raw_speech, (np.ndarray, torch.Tensor)):
            if raw_speech.ndim == 1:
                return [raw_speech]
            raise ValueError(
                f"Got one array of shape {tuple(raw_speech.shape)}: pass one mono waveform as a 1-D array, and a "
                "batch as a list of 1-D arrays. A 2-D array is ambiguous (a batch, or channels of one clip?); for "
                "stereo pass [clip] with downmix=True, or average the channels yourself."
            )
        if isinstance(raw_speech, (list, tuple)):
            if len(raw_speech) == 0:
                raise ValueError("Got an empty list of waveforms.")
            if all(isinstance(x, (int, float, np.number)) for x in raw_speech):
                return [np.asarray(raw_speech, dtype=np.float32)]
            return list(raw_speech)
        raise TypeError(f"Expected a waveform or a list of waveforms, got {type(raw_speech).__name__}.")

    @staticmethod
    def _check_waveform(waveform: Any, index: int, downmix: bool) -> torch.Tensor:
        """One waveform -> float32 1-D tensor, or a ValueError naming utterance `index` and the problem."""
        if isinstance(waveform, torch.Tensor):
            tensor = waveform
        else:
            try:
                array = np.asarray(waveform)
            except (TypeError, ValueError) as error:  # ragged nested lists
                raise ValueError(
                    f"Utterance {index} is not an array of samples ({type(waveform).__name__}: {error})"
                ) from error
            if array.dtype in _PCM_SCALE:
                array = array.astype(np.float32) / _PCM_SCALE[array.dtype]
            elif array.dtype == np.uint8:
                array = (array.astype(np.float32) - 128.0) / 128.0
            elif not np.issubdtype(array.dtype, np.floating):
                raise ValueError(
                    f"Utterance {index}: samples of type {array.dtype} are not audio (use float or int16)."
                )
            if array.dtype.itemsize > 4:
                _check_float32_range(np.abs(array), index)
            tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        if tensor.dtype == torch.int16:
            tensor = tensor.float() / 2.0**15
        elif not tensor.is_floating_point():
            raise ValueError(f"Utterance {index}: samples of type {tensor.dtype} are not audio (use float or int16).")
        if tensor.dtype == torch.float64:
            _check_float32_range(tensor.abs(), index)
        tensor = tensor.float()
        if tensor.numel() == 0:
            raise ValueError(f"Utterance {index} is empty (shape {tuple(tensor.shape)}, 0 samples).")
        if tensor.ndim == 2:
            channel_axis = int(torch.tensor(tensor.shape).argmin())
            if not downmix:
                raise ValueError(
                    f"Utterance {index} has shape {tuple(tensor.shape)}, which looks like "
                    f"{tensor.shape[channel_axis]} channels: pass mono audio, or downmix=True to average the channels."
                )
            tensor = tensor.mean(channel_axis)
        if tensor.ndim != 1:
            raise ValueError(f"Utterance {index} has shape {tuple(tensor.shape)}; expected a 1-D mono waveform.")
        return tensor


def _check_float32_range(magnitude: np.ndarray | torch.Tensor, index: int) -> None:
    """Finite samples beyond float32's range (|x| of a float64 waveform) would become inf on the cast: name them
    rather than report "non-finite" samples the caller never had."""
    too_large = (magnitude > _FLOAT32_MAX) & (magnitude < float("inf"))
    if bool(too_large.any()):
        raise ValueError(
            f"Utterance {index} has samples up to {float(magnitude[too_large].max()):.3g}, beyond float32's range "
            f"({_FLOAT32_MAX:.3g}); audio samples belong in [-1, 1] (scale the waveform)."
        )


def _check_finite(waveforms: Sequence[torch.Tensor]) -> None:
    """Raise naming the first utterance and sample that is NaN or inf (one device sync for the whole batch)."""
    finite = torch.stack([torch.isfinite(w).all() for w in waveforms])
    if bool(finite.all()):
        return
    index = int((~finite).nonzero()[0, 0])
    bad = ~torch.isfinite(waveforms[index])
    raise ValueError(
        f"Utterance {index} has {int(bad.sum())} non-finite samples (NaN or inf), the first at sample "
        f"{int(bad.nonzero()[0, 0])}."
    )


def _check_finite_features(features: torch.Tensor) -> None:
    """NaN/inf features never leave the extractor: name the utterance (extract() keeps finite audio finite; this
    guards what no check foresaw, e.g. resampling that overflows)."""
    finite = torch.isfinite(features).flatten(1).all(1)  # (B,)
    if not bool(finite.all()):
        index = int((~finite).nonzero()[0, 0])
        raise ValueError(f"Utterance {index} gives non-finite log-mel features (NaN or inf); check its samples.")


def _to_numpy(value: Any) -> Any:
    if isinstance(value, list):
        return [v.detach().cpu().numpy() for v in value]
    return value.detach().cpu().numpy()


LogMelFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")

__all__ = ["LogMelFeatureExtractor"]
