"""CTC output labels in pyctcdecode's convention, and validation of the logits a decoder is given.

Numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

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


def to_log_probs(logits: Any, num_labels: int, name: str = "utterance 0") -> np.ndarray:
    """Validate one utterance's (T, V) logits or log-probabilities and return (T, V) float32 log-probabilities.

    Raises ValueError naming `name` when: the array is not 2-D; V != `num_labels`; a value is NaN or +inf, or a
    whole frame is -inf (a lone -inf is log(0) and is accepted); the input looks like probabilities (every value
    >= 0 and each frame sums to 1), because decoding those as log-probabilities would silently give garbage.
    """
    if hasattr(logits, "detach"):  # torch tensor, without importing torch here
        logits = logits.detach().float().cpu().numpy()
    array = np.asarray(logits, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"{name}: logits must be (frames, {num_labels}), got shape {array.shape}")
    if array.shape[1] != num_labels:
        raise ValueError(
            f"{name}: logits have {array.shape[1]} classes per frame but the decoder's alphabet has {num_labels} "
            "labels; use the decoder saved with this model (same tokenizer)"
        )
    if array.shape[0] == 0:
        return array
    bad = np.isnan(array) | np.isposinf(array) | np.isneginf(array).all(axis=1, keepdims=True)
    if bad.any():
        frame = int(np.argwhere(bad)[0, 0])
        raise ValueError(f"{name}: logits hold NaN or inf (first at frame {frame}: {array[frame, :6].tolist()}...)")
    if (array >= 0).all() and np.allclose(array.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            f"{name}: these look like probabilities (all >= 0, each frame sums to 1); pass logits or "
            "log-probabilities instead (e.g. np.log(probs) or the model's raw logits)"
        )
    peak = array.max(axis=1, keepdims=True)
    return array - (peak + np.log(np.exp(array - peak).sum(axis=1, keepdims=True)))  # log-softmax
