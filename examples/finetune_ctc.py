"""Fine-tune a log-mel wav2vec 2.0 model with CTC on a corpus folder (from `hf-asr make-corpus`).

    python examples/finetune_ctc.py data/corpus out/ctc --init_from out/pretrain/model --max_steps 3000
    accelerate launch --config_file examples/accelerate/ddp_multi_gpu.yaml examples/finetune_ctc.py data/corpus out/ctc

Everything (collator, trainer, WER/CER evaluation, checkpoints, resume) comes from hf_asr.training.finetune.
"""

import argparse

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Processor
from hf_asr.data.loading import load_corpus
from hf_asr.data.text import normalize_transcript
from hf_asr.data.vocab import build_tokenizer
from hf_asr.training import final_model_dir, finetune

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("corpus", help="corpus (any layout `hf-asr finetune --corpus` takes) with train/validation splits")
parser.add_argument("output_dir")
parser.add_argument("--init_from", help="pretrained model folder, e.g. out/pretrain/model (default: a new tiny model)")
parser.add_argument("--text_column", default="text", help="transcript column")
parser.add_argument("--max_steps", type=int, default=2000)
parser.add_argument("--batch_size", type=int, default=8)
parser.add_argument("--max_seconds_per_batch", type=float, help="batch by total audio seconds instead")
parser.add_argument("--learning_rate", type=float, default=1e-4)
parser.add_argument("--device", choices=["cpu", "cuda"], help="default: the GPU if there is one")
args = parser.parse_args()

corpus = load_corpus(args.corpus, text_column=args.text_column)
train_texts = corpus["train"].select_columns([args.text_column])[args.text_column]  # without decoding the audio
tokenizer = build_tokenizer(normalize_transcript(t) for t in train_texts)
processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
model, history = finetune(
    corpus,
    processor,
    args.init_from,
    args.output_dir,
    max_steps=args.max_steps,
    per_device_batch_size=args.batch_size,
    max_seconds_per_batch=args.max_seconds_per_batch,
    learning_rate=args.learning_rate,
    text_column=args.text_column,
    eval_steps=max(1, args.max_steps // 5),
    save_steps=max(1, args.max_steps // 5),
    device=args.device,
    logging_steps=min(10, args.max_steps),
    resume_from_checkpoint="auto",
)
evals = [h for h in history if "eval_wer" in h]
if evals:
    print(f"eval WER {evals[-1]['eval_wer']:.3f}  CER {evals[-1]['eval_cer']:.3f}")
print(f"model + processor saved in {final_model_dir(args.output_dir)}")
