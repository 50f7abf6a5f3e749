"""Registers the log-mel wav2vec 2.0 classes with every transformers Auto class (once, on import)."""

from __future__ import annotations

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForCTC,
    AutoModelForPreTraining,
    AutoProcessor,
    AutoTokenizer,
    Wav2Vec2CTCTokenizer,
)

from .modeling.configuration import LogMelWav2Vec2Config
from .modeling.feature_extraction import LogMelFeatureExtractor
from .modeling.model import LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining, LogMelWav2Vec2Model
from .modeling.processing import LogMelWav2Vec2Processor

_registered = False


def register_auto_classes() -> None:
    """Make `Auto*.from_pretrained` resolve model_type "logmel_wav2vec2" to hf_asr's classes."""
    global _registered
    if _registered:
        return
    model_type = LogMelWav2Vec2Config.model_type
    AutoConfig.register(model_type, LogMelWav2Vec2Config, exist_ok=True)
    AutoModel.register(LogMelWav2Vec2Config, LogMelWav2Vec2Model, exist_ok=True)
    AutoModelForCTC.register(LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, exist_ok=True)
    AutoModelForPreTraining.register(LogMelWav2Vec2Config, LogMelWav2Vec2ForPreTraining, exist_ok=True)
    AutoFeatureExtractor.register(LogMelWav2Vec2Config, LogMelFeatureExtractor, exist_ok=True)
    AutoProcessor.register(LogMelWav2Vec2Config, LogMelWav2Vec2Processor, exist_ok=True)
    AutoTokenizer.register(LogMelWav2Vec2Config, tokenizer_class=Wav2Vec2CTCTokenizer, exist_ok=True)
    _registered = True
