"""Character vocabulary and the CTC tokenizer built from it.

Layout (ids): `<pad>` = 0 (also the CTC blank), `<unk>` = 1, `|` = 2 (word delimiter, stands for the space), then
the characters of the texts in sorted order. No `<s>`/`</s>`: they would appear in pipeline transcripts.
"""

from __future__ import annotations

import collections
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

from transformers import Wav2Vec2CTCTokenizer

from .text import require_transcript

PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
WORD_DELIMITER_TOKEN = "|"
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, WORD_DELIMITER_TOKEN)


def build_vocab(texts: Iterable[str]) -> dict[str, int]:
    """Map each character of the (already normalised) `texts` to an id, after the special tokens.

    The space is not a token: the tokenizer turns it into `|`. Raises ValueError if a text holds `|` itself (it could
    not be told apart from a word boundary) or if the texts have no characters at all; `TranscriptTypeError` (a
    TypeError) naming the sample for a text that is not a string (None: an empty cell).
    """
    characters: set[str] = set()
    for index, text in enumerate(texts):
        text = require_transcript(text, index)
        if WORD_DELIMITER_TOKEN in text:
            raise ValueError(
                f"text {index} ({text[:60]!r}) contains {WORD_DELIMITER_TOKEN!r}, the word-delimiter token; "
                "normalise transcripts with hf_asr.data.text.normalize_transcript first"
            )
        characters.update(text)
    characters.discard(" ")
    if not characters:
        raise ValueError("cannot build a vocabulary: the texts contain no characters")
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for char in sorted(characters):
        vocab[char] = len(vocab)
    return vocab


def tokenizer_from_vocab(vocab: dict[str, int], out_dir: str | Path | None = None) -> Wav2Vec2CTCTokenizer:
    """Write `vocab` as `vocab.json` (into `out_dir`, or a temporary folder) and load a `Wav2Vec2CTCTokenizer` on it.

    With `out_dir`, the folder also receives the tokenizer's own files (`save_pretrained`), so it can be reloaded
    with `Wav2Vec2CTCTokenizer.from_pretrained(out_dir)`.
    """
    if not isinstance(vocab, dict):
        raise TypeError(f"vocab must be a dict {{token: id}}, got {type(vocab).__name__}; build it with build_vocab")
    for token, token_id in vocab.items():
        if not isinstance(token, str) or isinstance(token_id, bool) or not isinstance(token_id, int) or token_id < 0:
            raise TypeError(f"vocab entry {token!r}: {token_id!r} is not a string token with an integer id >= 0")
    if len(set(vocab.values())) != len(vocab):
        shared = sorted(i for i, count in collections.Counter(vocab.values()).items() if count > 1)
        raise ValueError(f"vocab gives several tokens the same id(s) {shared}; each token needs its own id")
    missing = [token for token in SPECIAL_TOKENS if token not in vocab]
    if missing:
        raise ValueError(f"vocabulary lacks the special token(s) {missing}; build it with build_vocab")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out_dir) if out_dir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        vocab_file = folder / "vocab.json"
        vocab_file.write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
        tokenizer = Wav2Vec2CTCTokenizer(
            str(vocab_file),
            bos_token=None,
            eos_token=None,
            pad_token=PAD_TOKEN,
            unk_token=UNK_TOKEN,
            word_delimiter_token=WORD_DELIMITER_TOKEN,
        )
        if out_dir is not None:
            tokenizer.save_pretrained(str(folder))
    return tokenizer


def build_tokenizer(texts: Iterable[str], out_dir: str | Path | None = None) -> Wav2Vec2CTCTokenizer:
    """Build the character vocabulary of `texts` (normalised transcripts) and the CTC tokenizer on it.

    Decode label ids with `tokenizer.decode(ids, group_tokens=False)`: the default groups repeated ids as CTC
    output would ("hello" -> "helo"), which is right for logits' argmax but not for labels.
    """
    return tokenizer_from_vocab(build_vocab(texts), out_dir)
