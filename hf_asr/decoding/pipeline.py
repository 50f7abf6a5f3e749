"""`register_pipeline()`: `pipeline("automatic-speech-recognition")` builds hf_asr's `LMSpeechRecognitionPipeline`.

The class lives in `hf_asr/modeling/asr_pipeline.py` because it ships with the model as remote code: a saved
folder's config.json names it, so `pipeline(..., trust_remote_code=True)` decodes with the LM without hf_asr too.
"""

from __future__ import annotations

from transformers.pipelines import PIPELINE_REGISTRY

from ..modeling.asr_pipeline import LMSpeechRecognitionPipeline
from ..modeling.pipeline_entry import TASK


def register_pipeline() -> None:
    """Make `pipeline("automatic-speech-recognition")` build `LMSpeechRecognitionPipeline` (idempotent).

    Only the entry's implementation class changes; its model classes and default stay transformers' own.
    """
    entry = PIPELINE_REGISTRY.supported_tasks[TASK]
    if entry.get("impl") is not LMSpeechRecognitionPipeline:
        PIPELINE_REGISTRY.supported_tasks[TASK] = {**entry, "impl": LMSpeechRecognitionPipeline}


__all__ = ["TASK", "LMSpeechRecognitionPipeline", "register_pipeline"]
