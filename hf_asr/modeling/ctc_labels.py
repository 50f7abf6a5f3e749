"""CTC output labels in pyctcdecode's convention, and validation of the logits a decoder is given.

Numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

UNK_LABEL = "⁇"  # pyctcdecode's label for <unk>


def ctc_labels(tokenizer: Any) -> list[str]:
    """pyctcdecode labels in id order for a Wav2Vec2CTCTokenizer: pad (blank) -> "", `|` -> " ", unk -> "⁇"."""
    vocab = tokenizer.get_vocab()
    id_to_token = {index: token for token, index in vocab.items()}
    if sorted(id_to_token) != list(range(len(id_to_token))):
        raise ValueError(f"tokenizer ids are not contiguous from 0: {sorted(id_to_token)[:10]}...")
    special = {
        tokenizer.pad_token: "",
        getattr(tokenizer, "word_delimiter_token", "|"): " ",
        tokenizer.unk_token: UNK_LABEL,
    }
    others = [t for t in tokenizer.all_special_tokens if t not in special]
    if others:
        raise ValueError(
            f"tokenizer has special tokens {others} that CTC decoding would print as text; build it with "
            "bos_token=None, eos_token=None (only <pad>, <unk> and | are expected)"
        )
    return [special.get(id_to_token[i], id_to_token[i]) for i in range(len(id_to_token))]


def check_logits(logits: Any, num_labels: int, name: str = "utterance 0") -> np.ndarray:
    """One utterance's (T, V) logits (numpy, torch or nested lists of numbers) as a float64 array, validated.

    Raises TypeError naming `name` for values that are not real numbers, ValueError when: the array is not 2-D;
    V != `num_labels`; a value is NaN or +inf, or a whole frame is -inf (a lone -inf is log(0) and is accepted).
    """
    if hasattr(logits, "detach"):  # torch tensor, without importing torch here
        logits = logits.detach().cpu()
        if logits.dtype.is_floating_point and logits.element_size() < 4:  # numpy has no bfloat16
            logits = logits.float()
        logits = logits.numpy()
    try:
        array = np.asarray(logits)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name}: logits must be a (frames, {num_labels}) array, got {error}") from error
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: logits must be real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{name}: logits must be (frames, {num_labels}), got shape {array.shape}")
    if array.shape[1] != num_labels:
        raise ValueError(
            f"{name}: logits have {array.shape[1]} classes per frame but the decoder's alphabet has {num_labels} "
            "labels; use the decoder saved with this model (same tokenizer)"
        )
    array = array.astype(np.float64)
    bad = np.isnan(array) | np.isposinf(array) | np.isneginf(array).all(axis=1, keepdims=True)
    if bad.any():
        frame = int(np.argwhere(bad)[0, 0])
        raise ValueError(f"{name}: logits hold NaN or inf (first at frame {frame}: {array[frame, :6].tolist()}...)")
    return array


def to_log_probs(logits: Any, num_labels: int, name: str = "utterance 0") -> np.ndarray:
    """Validate one utterance's (T, V) logits or log-probabilities and return (T, V) float32 log-probabilities.

    Raises the errors of `check_logits`, and ValueError naming `name` when the input looks like probabilities
    (every value >= 0 and each frame sums to 1), because decoding those as log-probabilities would give garbage.
    """
    array = check_logits(logits, num_labels, name)
    if len(array) == 0:
        return array.astype(np.float32)
    with np.errstate(over="ignore"):  # huge logits sum to inf: not probabilities
        frame_sums = array.sum(axis=1) if (array >= 0).all() else None
    if frame_sums is not None and np.allclose(frame_sums, 1.0, atol=1e-3):
        raise ValueError(
            f"{name}: these look like probabilities (all >= 0, each frame sums to 1); pass logits or "
            "log-probabilities instead (e.g. np.log(probs) or the model's raw logits)"
        )
    # In float64, so that finite logits beyond float32's range stay finite; a log-prob too far below its frame's
    # best to fit (an overflow) becomes -inf, i.e. log(0).
    with np.errstate(over="ignore"):
        peak = array.max(axis=1, keepdims=True)
        log_probs = array - (peak + np.log(np.exp(array - peak).sum(axis=1, keepdims=True)))
        return log_probs.astype(np.float32)


def greedy_ids(logits: Any, num_labels: int, name: str = "utterance 0") -> np.ndarray:
    """(T,) best label id per frame of one utterance's (T, V) logits, validated by `check_logits` (so NaN logits
    raise an error naming `name` instead of decoding as blanks)."""
    return check_logits(logits, num_labels, name).argmax(axis=1)


def trim_to_lengths(logits: Any, logit_lengths: Any) -> list[Any]:
    """Each utterance of (B, T, V) padded logits (or a list of (T_i, V)) cut to its `logit_lengths` (B,) frames.

    Raises ValueError when the counts differ, or a length is negative, fractional or longer than its logits
    (naming the utterance index and value): a mistake there would silently drop or truncate an utterance.
    """
    lengths = logit_lengths.tolist() if hasattr(logit_lengths, "tolist") else list(logit_lengths)
    if len(lengths) != len(logits):
        raise ValueError(f"got {len(lengths)} logit_lengths for {len(logits)} utterances; give one per utterance")
    trimmed = []
    for index, (utterance, length) in enumerate(zip(logits, lengths)):
        frames = len(utterance)
        is_count = isinstance(length, numbers.Real) and not isinstance(length, bool) and float(length).is_integer()
        if not is_count or not 0 <= length <= frames:
            raise ValueError(
                f"logit_lengths[{index}] is {length!r}; it must be a whole number from 0 to the {frames} frames "
                f"of utterance {index}"
            )
        trimmed.append(utterance[: int(length)])
    return trimmed
