"""Does contrastive pretraining pay? Fine-tune on 10% of the labels from the pretrained encoder and from scratch.

Builds (or reuses) the demo's TTS corpus, pretrains on the audio of the whole train split, then fine-tunes two
models with the same step budget on a random 10% of the labelled train utterances: one starting from the
pretrained encoder, one from random weights. Prints and writes (OUT/pretraining_benefit.json) the test WER/CER
(greedy) of both and the relative WER reduction. Longer than the demo: run it on a GPU when there is one.

    python examples/pretraining_benefit.py --out runs/benefit                        # GPU if present
    python examples/pretraining_benefit.py --out runs/benefit --device cpu --pretrain-steps 800 --finetune-steps 800
"""

import argparse
import json
from pathlib import Path

import datasets

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Processor
from hf_asr.data.corpus import build_corpus
from hf_asr.data.vocab import build_tokenizer
from hf_asr.decoding.inference import compute_logits
from hf_asr.demo.run import demo_config
from hf_asr.demo.sentences import closed_vocabulary_sentences, pick_sentences
from hf_asr.metrics import load_metric
from hf_asr.training.recipes import audio_array, finetune, pretrain

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="runs/pretraining_benefit")
parser.add_argument("--device", choices=["cpu", "cuda"], help="default: the GPU if there is one")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--num-sentences", type=int, default=800)
parser.add_argument("--voices-per-sentence", type=int, default=3)
parser.add_argument("--label-fraction", type=float, default=0.1)
parser.add_argument("--pretrain-steps", type=int, default=4000)
parser.add_argument("--finetune-steps", type=int, default=2000)
parser.add_argument("--max-seconds-per-batch", type=float, default=48.0)
args = parser.parse_args()
out = Path(args.out)

corpus_dir = out / "corpus"
if corpus_dir.exists():
    corpus = datasets.load_from_disk(str(corpus_dir))
else:
    sentences = pick_sentences(closed_vocabulary_sentences(600), args.num_sentences, args.seed)
    corpus = build_corpus(corpus_dir, len(sentences), args.voices_per_sentence, seed=args.seed,
                          sentence_source=sentences, num_voices=8)
train_texts = corpus["train"].select_columns(["text"])["text"]
processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), build_tokenizer(train_texts))
labelled = corpus["train"].shuffle(seed=args.seed).select(range(max(1, int(args.label_fraction * len(train_texts)))))
few_labels = datasets.DatasetDict({"train": labelled, "validation": corpus["validation"]})
config = demo_config()
batching = dict(max_seconds_per_batch=args.max_seconds_per_batch, device=args.device, seed=args.seed)

pretrained, _ = pretrain(corpus.remove_columns(["text"]), config, str(out / "pretrain"), args.pretrain_steps,
                         learning_rate=2e-3, eval_split=None, **batching)
test_waves = [audio_array(row["audio"])[0] for row in corpus["test"]]
test_texts = corpus["test"].select_columns(["text"])["text"]
wer, cer = load_metric("wer"), load_metric("cer")
results = {}
for name, init in (("pretrained", pretrained), ("scratch", None)):
    model, _ = finetune(few_labels, processor, init, str(out / f"finetune_{name}"), args.finetune_steps,
                        config=config, freeze_feature_encoder=False, mask_time_prob=0.05, learning_rate=3e-3,
                        eval_steps=max(1, args.finetune_steps // 4), **batching)
    logits = compute_logits(model, processor.feature_extractor, test_waves, 16000, batch_size=16)
    hypotheses = [processor.tokenizer.decode(x.argmax(-1)) for x in logits]
    results[name] = {"wer": wer.compute(predictions=hypotheses, references=test_texts),
                     "cer": cer.compute(predictions=hypotheses, references=test_texts)}

reduction = 1 - results["pretrained"]["wer"] / max(results["scratch"]["wer"], 1e-9)
report = {"settings": vars(args), "labelled_utterances": len(labelled), "test_utterances": len(test_texts),
          "results": results, "relative_wer_reduction": reduction}
(out / "pretraining_benefit.json").write_text(json.dumps(report, indent=2))
print(f"| init | test WER | test CER |  ({len(labelled)} labelled utterances, {len(test_texts)} test)")
print("|---|---|---|")
for name, scores in results.items():
    print(f"| {name} | {100 * scores['wer']:.1f}% | {100 * scores['cer']:.1f}% |")
print(f"relative WER reduction from pretraining: {100 * reduction:.1f}% (target >= 20%)")
