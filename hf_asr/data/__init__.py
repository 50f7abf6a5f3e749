"""Corpus building and loading, transcript normalisation, the character vocabulary, duration batching.

Modules (imported on first use, so `hf-asr` starts without loading datasets/torchaudio):
  text      normalize_transcript, find_unknown_characters, check_transcripts, UnknownCharactersError,
            UnknownCharactersWarning, TranscriptTypeError
  vocab     build_vocab, build_tokenizer, tokenizer_from_vocab
  sentences load_sentences, clean_sentence, split_sentences
  tts       Voice, synthesize
  speakers  draw_speakers (train and held-out voices), default_voices
  corpus    build_corpus, split_by_sentence
  loading   load_corpus, CorpusError, AudioDecodingError, require_audio_backend
  layouts   detect_layout, read_layout, describe_corpus, LAYOUTS (LibriSpeech, Common Voice, NeMo, SpeechBrain, ...)
  corpus_errors  DroppedRowsWarning (and the errors above)
  splits    combine_splits ("train+validation")
  batching  DurationBatchSampler, StreamBatches, pack_by_duration
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "normalize_transcript": "text",
    "find_unknown_characters": "text",
    "check_transcripts": "text",
    "UnknownCharactersError": "text",
    "UnknownCharactersWarning": "text",
    "TranscriptTypeError": "text",
    "build_vocab": "vocab",
    "build_tokenizer": "vocab",
    "tokenizer_from_vocab": "vocab",
    "load_sentences": "sentences",
    "Voice": "tts",
    "synthesize": "tts",
    "default_voices": "speakers",
    "draw_speakers": "speakers",
    "build_corpus": "corpus",
    "load_corpus": "loading",
    "CorpusError": "loading",
    "AudioDecodingError": "loading",
    "detect_layout": "layouts",
    "read_layout": "layouts",
    "describe_corpus": "layouts",
    "DroppedRowsWarning": "corpus_errors",
    "combine_splits": "splits",
    "DurationBatchSampler": "batching",
    "StreamBatches": "batching",
    "pack_by_duration": "batching",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
