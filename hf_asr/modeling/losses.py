"""Pure loss functions of wav2vec 2.0 pretraining and CTC fine-tuning (no modules, no config)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def codevector_perplexity(probs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Sum over groups of exp(entropy) of the codevector distribution averaged over frames.

    Args:
        probs: (N, G, V) per-frame probabilities over each group's V codevectors.
        mask: (N,) bool frames to average over, or None for all.
    Returns:
        scalar in [G, G * V]: G when every frame uses one codevector per group, G * V when all are used evenly.
    """
    probs = probs.float()
    if mask is not None:
        mask = mask.to(probs.device)
        count = mask.sum().clamp(min=1)
        marginal = (probs * mask[:, None, None]).sum(0) / count  # (G, V)
    else:
        marginal = probs.mean(0)
    entropy = -(marginal * torch.log(marginal.clamp(min=1e-7))).sum(-1)  # (G,)
    return torch.exp(entropy).sum()


def diversity_loss(perplexity: torch.Tensor, num_codevectors: int) -> torch.Tensor:
    """(G·V − perplexity) / (G·V): 0 when the codebook is used evenly, near 1 when it has collapsed."""
    return (num_codevectors - perplexity) / num_codevectors


def contrastive_loss(
    context: torch.Tensor,
    targets: torch.Tensor,
    negative_indices: torch.Tensor,
    mask: torch.Tensor,
    temperature: float,
    target_ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoNCE over cosine similarities: each masked frame must pick its own target among K negatives.

    Computed in fp32 whatever the autocast dtype (bf16/fp16 logits overflow or lose the ranking).
    Similarities are taken once per utterance as a (T, T) matrix and the negatives gathered from it,
    which costs B·T·T instead of N·K·D memory.

    Args:
        context: (B, T, D) projected Transformer outputs.
        targets: (B, T, D) projected quantized targets.
        negative_indices: (B, T, K) frame indices of the negatives of each frame.
        mask: (B, T) bool masked frames (where the loss is taken).
        temperature: κ, the divisor of the cosine logits.
        target_ids: (B, T) optional ids of the targets (the quantizer's code ids); a negative whose id
            equals the positive's is the same vector and is left out.
    Returns:
        (loss summed over masked frames, number of masked frames whose positive scored highest).
    """
    with torch.autocast(device_type=context.device.type, enabled=False):
        context = F.normalize(context.float(), dim=-1)
        targets = F.normalize(targets.float(), dim=-1)
        similarity = torch.bmm(context, targets.transpose(1, 2)) / temperature  # (B, T, T)
        negative_indices = negative_indices.to(context.device)
        positive = similarity.diagonal(dim1=1, dim2=2)[..., None]  # (B, T, 1)
        negatives = similarity.gather(2, negative_indices)  # (B, T, K)
        if target_ids is not None:
            negative_ids = target_ids.gather(1, negative_indices.flatten(1)).view_as(negative_indices)
            negatives = negatives.masked_fill(negative_ids == target_ids[..., None], float("-inf"))
        logits = torch.cat([positive, negatives], dim=-1)  # (B, T, K + 1), the positive first
        # Every frame's loss, weighted by the mask (no boolean indexing: static shapes for torch.compile).
        mask = mask.to(logits.device)
        frame_losses = torch.logsumexp(logits, dim=-1) - logits[..., 0]  # (B, T) cross-entropy against index 0
        loss = (frame_losses * mask).sum()
        correct = ((logits.argmax(-1) == 0) & mask).sum()
    return loss, correct


def check_ctc_shapes(logits: torch.Tensor, logit_lengths: torch.Tensor, labels: torch.Tensor) -> None:
    """ValueError naming the sizes unless logits (B, T, V), logit_lengths (B,) and labels (B, S) agree on B."""
    if logits.dim() != 3:
        raise ValueError(f"CTC logits must be (batch, frames, vocabulary), got shape {tuple(logits.shape)}")
    if labels.dim() != 2:
        raise ValueError(f"CTC labels must be (batch, label positions) ids, got shape {tuple(labels.shape)}")
    batch = logits.shape[0]
    if labels.shape[0] != batch:
        raise ValueError(
            f"labels hold {labels.shape[0]} utterance(s) but the features {batch}: give one row of label ids per "
            "utterance of the batch (padded with -100)"
        )
    if tuple(logit_lengths.shape) != (batch,):
        raise ValueError(f"logit_lengths must be ({batch},), one per utterance, got shape {tuple(logit_lengths.shape)}")


def ctc_loss(
    logits: torch.Tensor,
    logit_lengths: torch.Tensor,
    labels: torch.Tensor,
    blank_id: int,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> torch.Tensor:
    """CTC loss of frame logits against label ids, computed in fp32.

    Args:
        logits: (B, T, V) unnormalised scores.
        logit_lengths: (B,) valid frames.
        labels: (B, S) label ids, -100 (or any negative) where padded.
        reduction: "mean" (per target length, then batch mean, as torch), "sum" or "none".
    """
    check_ctc_shapes(logits, logit_lengths, labels)
    label_lengths = (labels >= 0).sum(-1)
    log_probs = F.log_softmax(logits.float(), dim=-1).transpose(0, 1)  # (T, B, V)
    # Padded (B, S) targets rather than concatenated ones: torch never hands this form to cuDNN's CTC, whose
    # blank and length rules differ.
    arguments = (log_probs, labels.clamp(min=0), logit_lengths, label_lengths, blank_id, zero_infinity)
    if torch.compiler.is_compiling():
        losses = _compiled_ctc_losses(*arguments)  # an opaque op: torch's CTC has data-dependent shapes
    else:
        losses = F.ctc_loss(*arguments[:5], reduction="none", zero_infinity=zero_infinity)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":  # torch's: per target length, then the batch mean
        return (losses / label_lengths.clamp(min=1).to(losses)).mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


@torch.library.custom_op("hf_asr::ctc_losses", mutates_args=())
def _compiled_ctc_losses(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    zero_infinity: bool,
) -> torch.Tensor:
    """torch's CTC loss per utterance (B,) behind a custom op whose output shape is known to the compiler."""
    return F.ctc_loss(
        log_probs, targets, input_lengths, target_lengths, blank, reduction="none", zero_infinity=zero_infinity
    )


@_compiled_ctc_losses.register_fake
def _(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    return log_probs.new_empty(log_probs.shape[1])


@torch.library.custom_op("hf_asr::ctc_losses_backward", mutates_args=())
def _compiled_ctc_losses_backward(
    grad: torch.Tensor,
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    zero_infinity: bool,
) -> torch.Tensor:
    """d(losses · grad)/d(log_probs) by torch's own CTC kernels (the forward is run again for its alphas)."""
    nll, log_alpha = torch.ops.aten._ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)
    gradient = torch.ops.aten._ctc_loss_backward(
        grad, log_probs, targets, input_lengths, target_lengths, nll, log_alpha, blank, zero_infinity
    )
    return gradient.contiguous()  # the layout the fake promises, whatever the kernel's (log_probs is a transpose)


@_compiled_ctc_losses_backward.register_fake
def _(grad, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    # Contiguous (T, B, V): inductor checks the real output's strides against these (empty_like would copy
    # the transposed strides of log_probs, which the kernel does not produce).
    return log_probs.new_empty(log_probs.shape)


def _ctc_setup_context(ctx, inputs, output) -> None:
    log_probs, targets, input_lengths, target_lengths, blank, zero_infinity = inputs
    ctx.save_for_backward(log_probs, targets, input_lengths, target_lengths)
    ctx.blank, ctx.zero_infinity = blank, zero_infinity


def _ctc_backward(ctx, grad):
    log_probs, targets, input_lengths, target_lengths = ctx.saved_tensors
    gradient = _compiled_ctc_losses_backward(
        grad, log_probs, targets, input_lengths, target_lengths, ctx.blank, ctx.zero_infinity
    )
    return gradient, None, None, None, None, None


_compiled_ctc_losses.register_autograd(_ctc_backward, setup_context=_ctc_setup_context)


def ctc_required_frames(labels: torch.Tensor) -> torch.Tensor:
    """(B, S) label ids (negative = padding) -> (B,) frames a CTC alignment needs: length + adjacent repeats."""
    valid = labels >= 0
    repeats = ((labels[:, 1:] == labels[:, :-1]) & valid[:, 1:] & valid[:, :-1]).sum(-1)
    return valid.sum(-1) + repeats


def ctc_utterance_losses(
    logits: torch.Tensor,
    logit_lengths: torch.Tensor,
    labels: torch.Tensor,
    blank_id: int,
    per_label: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each utterance's CTC loss, and whether its labels fit its frames at all.

    An utterance needs `ctc_required_frames` frames; one with fewer has no alignment (infinite loss): it gets loss 0
    and no gradient, and `feasible` says so, so that callers can leave it out of their averages and count it.

    Args:
        logits: (B, T, V); logit_lengths: (B,); labels: (B, S), negative where padded.
        per_label: divide each loss by its label count (torch's "mean" reduction before the batch mean).
    Returns:
        losses (B,) float32, feasible (B,) bool.
    """
    check_ctc_shapes(logits, logit_lengths, labels)
    feasible = logit_lengths.to(labels.device) >= ctc_required_frames(labels)
    losses = ctc_loss(logits, logit_lengths, labels, blank_id, reduction="none", zero_infinity=True)  # (B,)
    if per_label:
        losses = losses / (labels >= 0).sum(-1).clamp(min=1).to(losses)
    return torch.where(feasible.to(losses.device), losses, torch.zeros_like(losses)), feasible
