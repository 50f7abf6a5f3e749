"""Device check (not collected by pytest): the trainers on CUDA with bf16, GA scaling on GPU, BASE-size speed.

python -m tests.training.gpu_check      (from the repository root)
"""

from __future__ import annotations

import copy
import os
import platform
import sys
import tempfile
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

print(
    "python",
    platform.python_version(),
    "torch",
    torch.__version__,
    "cuda",
    torch.cuda.is_available(),
    torch.cuda.get_device_name(0) if torch.cuda.is_available() else "",
)
for name in ("transformers", "accelerate", "datasets", "evaluate", "jiwer", "torchaudio"):
    try:
        module = __import__(name)
        print(name, module.__version__)
    except Exception as error:  # noqa: BLE001
        print(name, "MISSING", type(error).__name__, error)

START = time.time()
BF16 = torch.cuda.is_available()


ONLY = sys.argv[1:]  # names of sections to run (ctc, ga, pretrain, speed); all by default


def section(title):
    def wrap(function):
        if ONLY and function.__name__.strip("_") not in ONLY:
            return function
        print(f"\n=== {title} (t={time.time() - START:.0f}s)", flush=True)
        try:
            function()
        except Exception:  # noqa: BLE001
            traceback.print_exc()
        return function

    return wrap


@section("CTC fine-tuning on cuda, bf16")
def _ctc():
    from hf_asr import LogMelWav2Vec2Config
    from hf_asr.training import finetune

    from .runs import make_processor
    from .synthetic import tone_corpus

    config = LogMelWav2Vec2Config.tiny(hidden_dropout=0.0, final_dropout=0.0, mask_time_prob=0.05)
    with tempfile.TemporaryDirectory() as out:
        model, history = finetune(
            tone_corpus(copies=2),
            make_processor(),
            None,
            out,
            max_steps=150,
            config=config,
            freeze_feature_encoder=False,
            per_device_batch_size=8,
            learning_rate=3e-3,
            logging_steps=25,
            bf16=BF16,
            disable_tqdm=True,
        )
    print("device", next(model.parameters()).device)
    print("losses", [round(h["loss"], 3) for h in history if "loss" in h])


@section("GA=2 vs doubled batch on cuda (fp32)")
def _ga():
    from hf_asr import LogMelWav2Vec2ForCTC
    from hf_asr.data.features import prepare_dataset
    from hf_asr.training import CTCTrainer, DataCollatorCTC, make_training_args

    from .runs import make_processor, quiet_tiny_config
    from .synthetic import tone_corpus

    processor = make_processor()
    data = prepare_dataset(tone_corpus(), processor.feature_extractor, processor.tokenizer).select([0, 2, 5, 7])
    torch.manual_seed(0)
    start = LogMelWav2Vec2ForCTC(quiet_tiny_config(vocab_size=len(processor.tokenizer)))
    params = []
    for batch, accumulation in ((4, 1), (3, 2)):
        model = copy.deepcopy(start)
        with tempfile.TemporaryDirectory() as out:
            args = make_training_args(
                out,
                1,
                batch,
                1.0,
                warmup_steps=0,
                logging_steps=1,
                optim="sgd",
                max_grad_norm=0.0,
                weight_decay=0.0,
                train_sampling_strategy="sequential",
                gradient_accumulation_steps=accumulation,
                disable_tqdm=True,
            )
            trainer = CTCTrainer(model=model, args=args, data_collator=DataCollatorCTC(processor), train_dataset=data)
            trainer.train()
        print("batch", batch, "GA", accumulation, "loss", trainer.state.log_history[0]["loss"])
        params.append({k: v.detach().float().cpu() for k, v in model.named_parameters()})
    print("max |update difference|", max(float((params[0][k] - params[1][k]).abs().max()) for k in params[0]))


@section("pretraining on cuda, bf16")
def _pretrain():
    from hf_asr import LogMelWav2Vec2Config
    from hf_asr.training import pretrain

    from .synthetic import tone_corpus

    config = LogMelWav2Vec2Config.tiny(mask_time_prob=0.3, mask_time_length=3, gumbel_temperature_decay=0.99)
    with tempfile.TemporaryDirectory() as out:
        model, history = pretrain(
            tone_corpus(copies=3),
            config,
            out,
            max_steps=100,
            per_device_batch_size=8,
            learning_rate=2e-3,
            logging_steps=20,
            bf16=BF16,
            disable_tqdm=True,
        )
    for h in history:
        if "loss" in h:
            print(
                {
                    k: round(h[k], 3)
                    for k in (
                        "step",
                        "loss",
                        "codevector_perplexity",
                        "contrastive_accuracy",
                        "gumbel_temperature",
                        "codebook_collapsed",
                    )
                    if k in h
                }
            )


class StepTimer(TrainerCallback):
    def __init__(self):
        self.times = []

    def on_step_end(self, *args, **kwargs):
        torch.cuda.synchronize()
        self.times.append(time.time())


@section("BASE size: audio-seconds per second through the trainers (bf16, batch 16 x 15 s)")
def _speed():
    import datasets
    import numpy as np

    from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining
    from hf_asr.training import (
        CTCTrainer,
        DataCollatorCTC,
        DataCollatorPretraining,
        PretrainingTrainer,
        make_training_args,
    )

    from .runs import make_processor

    processor = make_processor()
    rng = np.random.default_rng(0)
    frames, steps, batch = 1501, 10, 16  # 15 s of 10 ms log-mel frames
    rows = {
        "input_features": [rng.standard_normal((frames, 80)).astype(np.float32) for _ in range(batch * steps)],
        "labels": [list(rng.integers(3, len(processor.tokenizer), 200)) for _ in range(batch * steps)],
    }
    array2d = datasets.Features(
        {
            "input_features": datasets.Array2D(shape=(None, 80), dtype="float32"),
            "labels": datasets.List(datasets.Value("int64")),
        }
    )
    data = datasets.Dataset.from_dict(rows, features=array2d)  # as hf_asr.data.features.prepare_dataset stores them
    nested = datasets.Dataset.from_dict(rows)  # nested lists, to compare with Array2D
    for name in ("ctc_nested_lists", "ctc", "pretrain"):
        if not torch.cuda.is_available() or time.time() - START > 200:
            print("skipped (time)")
            return
        config = LogMelWav2Vec2Config.base(vocab_size=len(processor.tokenizer))
        if name.startswith("ctc"):
            model, collator, cls = LogMelWav2Vec2ForCTC(config), DataCollatorCTC(processor), CTCTrainer
            dataset = nested if name == "ctc_nested_lists" else data
        else:
            model = LogMelWav2Vec2ForPreTraining(config)
            collator = DataCollatorPretraining.from_model(model)
            cls, dataset = PretrainingTrainer, data.remove_columns("labels")
        timer = StepTimer()
        with tempfile.TemporaryDirectory() as out:
            args = make_training_args(
                out, steps, batch, 1e-4, logging_steps=100, bf16=BF16, disable_tqdm=True, dataloader_num_workers=2
            )
            trainer = cls(model=model, args=args, data_collator=collator, train_dataset=dataset, callbacks=[timer])
            torch.cuda.reset_peak_memory_stats()
            trainer.train()
        times = timer.times
        per_step = (times[-1] - times[2]) / (len(times) - 3)
        print(
            name,
            f"{batch * 15 / per_step:.0f} audio-s/s, {per_step * 1000:.0f} ms/step, "
            f"peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB",
        )
        del model, trainer
        torch.cuda.empty_cache()


print(f"\ntotal {time.time() - START:.0f}s")
