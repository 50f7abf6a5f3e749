"""Decoding: KenLM building, LM beam search (pyctcdecode; optional flashlight), alpha/beta tuning, ASR pipeline.

`LMDecoder` itself lives in `hf_asr/modeling/lm_decoder.py` because it ships with the model as remote code.
"""

from ..modeling.ctc_labels import ctc_labels
from ..modeling.lm_decoder import LMDecoder, LMDecoderOutput
from .backends import load_lm_decoder
from .flashlight_decoder import FlashlightLMDecoder
from .lm_building import LMFiles, build_lm, find_kenlm_tool
from .pipeline import LMSpeechRecognitionPipeline, register_pipeline
from .tuning import TuningResult, greedy_wer, tune_alpha_beta

__all__ = [
    "LMDecoder",
    "LMDecoderOutput",
    "ctc_labels",
    "load_lm_decoder",
    "FlashlightLMDecoder",
    "LMFiles",
    "build_lm",
    "find_kenlm_tool",
    "LMSpeechRecognitionPipeline",
    "register_pipeline",
    "TuningResult",
    "greedy_wer",
    "tune_alpha_beta",
]
