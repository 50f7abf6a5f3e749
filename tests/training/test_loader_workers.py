"""Data-loader workers: each worker's copy of the collator draws its own random stream, and checkpoints are saved
(with a warning that those streams are not in them) instead of failing on the main process' unused collator."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import torch

from hf_asr.training.collators import SeededCollatorMixin

from .runs import losses, run


class _Draws(SeededCollatorMixin):
    def __init__(self) -> None:
        self._init_stream(seed=3)

    def __call__(self, examples):
        self._start_batch()
        return torch.rand(4, generator=self.generator)


def test_each_worker_draws_its_own_stream(monkeypatch):
    def draws_in(worker_id):
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: SimpleNamespace(id=worker_id))
        return _Draws()([])

    first, second = draws_in(0), draws_in(1)
    assert not torch.equal(first, second)
    assert torch.equal(first, draws_in(0))  # still seeded: the same worker repeats its draws


def test_checkpoints_with_loader_workers_are_saved_and_resumed(tmp_path, caplog):
    out = str(tmp_path / "run")
    with caplog.at_level(logging.WARNING, logger="hf_asr.training.base"):
        run("pretrain", out, 2, save_steps=1, dataloader_num_workers=1)
    assert "random draws happen in the workers and are not saved" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hf_asr.training.base"):
        _, history = run("pretrain", out, 3, resume="auto", save_steps=1, dataloader_num_workers=1)
    assert "checkpoint-2 holds no collator state: masks after resuming will differ" in caplog.text  # resumed
    assert list(losses(history)) == [1, 2, 3]
