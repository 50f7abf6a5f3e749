"""hf_asr: log-mel wav2vec 2.0 pretraining, CTC fine-tuning and KenLM decoding for the Hugging Face stack.

Importing hf_asr registers its classes with transformers' Auto classes, and makes
`pipeline("automatic-speech-recognition", model=folder)` use the KenLM decoder saved in the folder.
"""

from .decoding.pipeline import LMSpeechRecognitionPipeline, register_pipeline
from .modeling.configuration import LogMelWav2Vec2Config
from .modeling.feature_extraction import LogMelFeatureExtractor
from .modeling.lm_decoder import LMDecoder
from .modeling.model import (
    LogMelWav2Vec2ForCTC,
    LogMelWav2Vec2ForPreTraining,
    LogMelWav2Vec2Model,
    LogMelWav2Vec2PreTrainedModel,
)
from .modeling.processing import LogMelWav2Vec2Processor
from .registration import register_auto_classes
from .version import __version__

register_auto_classes()
register_pipeline()

__all__ = [
    "LogMelWav2Vec2Config",
    "LogMelFeatureExtractor",
    "LogMelWav2Vec2Model",
    "LogMelWav2Vec2PreTrainedModel",
    "LogMelWav2Vec2ForPreTraining",
    "LogMelWav2Vec2ForCTC",
    "LogMelWav2Vec2Processor",
    "LMDecoder",
    "LMSpeechRecognitionPipeline",
    "register_pipeline",
    "register_auto_classes",
    "__version__",
]
