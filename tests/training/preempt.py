"""A callback that preempts its own run: SIGTERM to this process after the given optimizer steps,
the way SLURM or a spot instance stops a job (used through `+callbacks.preempt=...`)."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl


class SigtermAtSteps(pl.Callback):
    def __init__(self, steps: list[int]) -> None:
        self.steps = set(steps)

    def on_train_batch_end(self, trainer: pl.Trainer, *_args) -> None:
        if trainer.global_step in self.steps:
            os.kill(os.getpid(), signal.SIGTERM)
