"""The `custom_pipelines` entry of a saved folder's config.json, which names the shipped ASR pipeline.

With it, transformers' `pipeline("automatic-speech-recognition", model=folder, trust_remote_code=True)` builds
`asr_pipeline.LMSpeechRecognitionPipeline` (KenLM decoding, long-audio chunking, soundfile reading) from the folder's
own code, where hf_asr is not installed. transformers resolves the entry before its task registry, and refuses it
without `trust_remote_code=True`; so where `import hf_asr` has already registered that pipeline for the task, a
loaded config drops the entry (`pipelines_not_served_here`) and `pipeline(task, model=folder)` works as before.
"""

from __future__ import annotations

import sys
from typing import Any

TASK = "automatic-speech-recognition"
PIPELINE_MODULE = "asr_pipeline"  # the file the entry names, shipped with the model code
PIPELINE_CLASS = "LMSpeechRecognitionPipeline"
# "pt": transformers' Auto class names; AutoModelForCTC resolves to the folder's CTC head through its auto_map.
HUB_CUSTOM_PIPELINES: dict[str, dict[str, Any]] = {
    TASK: {"impl": f"{PIPELINE_MODULE}.{PIPELINE_CLASS}", "pt": ["AutoModelForCTC"], "type": "audio"}
}


def pipelines_not_served_here(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`entries` (a config's `custom_pipelines`: task -> {"impl": "module.Class", ...}) without the tasks for which
    this process has registered a pipeline class of the entry's name (hf_asr's, registered on `import hf_asr`)."""
    pipelines = sys.modules.get("transformers.pipelines")  # not imported yet: nothing is registered
    if pipelines is None:
        return entries
    registered = pipelines.PIPELINE_REGISTRY.supported_tasks
    return {
        task: entry
        for task, entry in entries.items()
        if getattr(registered.get(task, {}).get("impl"), "__name__", None) != str(entry.get("impl")).split(".")[-1]
    }


__all__ = ["TASK", "PIPELINE_MODULE", "PIPELINE_CLASS", "HUB_CUSTOM_PIPELINES", "pipelines_not_served_here"]
