"""Run under `accelerate launch -m tests.training.stream_ddp_script CORPUS OUT_DIR` (repo root) by test_streaming:
streamed fine-tuning with duration batches and evaluation of the eval split (read from its stream), then
predictions on that stream;
writes what this process trained on (a digest of each utterance's features), its step count, its evaluation and
how many predictions it got back to <out_dir>/rank<r>.json."""

from __future__ import annotations

import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist

from hf_asr.data.features import prepare_dataset
from hf_asr.data.loading import load_corpus
from hf_asr.training import CTCTrainer, collators, make_training_args, recipes
from tests.training.runs import make_processor, run

torch.set_num_threads(1)


def digest(features) -> str:
    return hashlib.sha1(np.ascontiguousarray(features, dtype=np.float32).tobytes()).hexdigest()[:16]


class RecordingCollator(collators.DataCollatorCTC):
    """The recipe's collator, recording the utterances of training batches (not those of its evaluation copy)."""

    trained_on: list[str] = []
    evaluating = False

    def __call__(self, examples):
        if not self.evaluating:
            RecordingCollator.trained_on.extend(digest(example["input_features"]) for example in examples)
        return super().__call__(examples)

    def eval_copy(self):
        copy = super().eval_copy()
        copy.evaluating = True
        return copy


recipes.DataCollatorCTC = RecordingCollator

corpus_dir, out_dir = sys.argv[1], sys.argv[2]
stream = load_corpus(corpus_dir, streaming=True)
model, history = run(
    "finetune",
    os.path.join(out_dir, "ctc"),
    6,
    corpus=stream,
    max_seconds_per_batch=3.0,
    shuffle_buffer_size=8,
    eval_steps=6,
    per_device_eval_batch_size=2,
)
processor = make_processor()
evaluation = prepare_dataset(stream["validation"], processor.feature_extractor, processor.tokenizer)
args = make_training_args(os.path.join(out_dir, "predict"), 1, 2, device="cpu", disable_tqdm=True)
predictions = CTCTrainer(model=model, args=args, data_collator=collators.DataCollatorCTC(processor)).predict(evaluation)
rank = dist.get_rank()
report = {
    "world_size": dist.get_world_size(),
    "trained_on": RecordingCollator.trained_on,  # in the order read
    "steps": [h["step"] for h in history if "loss" in h],
    "eval": [h for h in history if "eval_loss" in h],
    "predicted": len(predictions.label_ids),
}
with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as handle:
    json.dump(report, handle)
dist.destroy_process_group()
