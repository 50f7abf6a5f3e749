"""wav2vec 2.0 contrastive pretraining of a log-mel encoder on a corpus folder (audio only is used).

    python examples/pretrain.py data/corpus out/pretrain --max_steps 5000 --preset tiny
    accelerate launch --config_file examples/accelerate/ddp_multi_gpu.yaml examples/pretrain.py data/corpus out/pretrain

Masks, negatives, Gumbel temperature annealing, loss normalisation across processes, the codebook-collapse alarm,
checkpoints and resume all come from hf_asr.training.pretrain.
"""

import argparse

from hf_asr import LogMelWav2Vec2Config
from hf_asr.data.loading import load_corpus
from hf_asr.training import final_model_dir, pretrain

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("corpus", help="corpus folder (save_to_disk) with an audio column")
parser.add_argument("output_dir")
parser.add_argument("--preset", choices=["tiny", "base"], default="tiny")
parser.add_argument("--max_steps", type=int, default=5000)
parser.add_argument("--batch_size", type=int, default=8)
parser.add_argument("--max_seconds_per_batch", type=float, help="batch by total audio seconds instead")
parser.add_argument("--learning_rate", type=float, default=5e-4)
parser.add_argument("--device", choices=["cpu", "cuda"], help="default: the GPU if there is one")
args = parser.parse_args()

config = getattr(LogMelWav2Vec2Config, args.preset)()
model, history = pretrain(
    load_corpus(args.corpus, text_column=None),
    config,
    args.output_dir,
    max_steps=args.max_steps,
    per_device_batch_size=args.batch_size,
    max_seconds_per_batch=args.max_seconds_per_batch,
    learning_rate=args.learning_rate,
    save_steps=max(1, args.max_steps // 10),
    device=args.device,
    logging_steps=min(10, args.max_steps),
    resume_from_checkpoint="auto",
)
last = [h for h in history if "codevector_perplexity" in h][-1]
print(
    f"loss {last['loss']:.3f}  perplexity {last['codevector_perplexity']:.1f}  "
    f"accuracy {last['contrastive_accuracy']:.3f}  -> {final_model_dir(args.output_dir)}"
)
