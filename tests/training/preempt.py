"""A callback that preempts its own run: SIGTERM to this process after the given optimizer steps,
the way SLURM or a spot instance stops a job (used through `+callbacks.preempt=...`)."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl
import torch


class SigtermAtSteps(pl.Callback):
    def __init__(self, steps: list[int]) -> None:
        self.steps = set(steps)

    def on_train_batch_end(self, trainer: pl.Trainer, *_args) -> None:
        if trainer.global_step in self.steps:
            os.kill(os.getpid(), signal.SIGTERM)


class SigtermInValidation(pl.Callback):
    """SIGTERM after the first validation batch at `step`, recording the weights in play: during
    validation the model holds the EMA average and the averaging callback holds the online weights."""

    def __init__(self, step: int, record: str) -> None:
        self.step = step
        self.record = record  # where the weights seen are saved, for the test to compare
        self.seen: dict[str, dict] = {}

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_args) -> None:
        if trainer.sanity_checking or trainer.global_step != self.step or self.seen:
            return
        averaging = next(c for c in trainer.callbacks if isinstance(c, pl.callbacks.WeightAveraging))
        self.seen = {"average": {k: v.clone() for k, v in pl_module.state_dict().items()},
                     "online": {k: v.clone() for k, v in averaging._average_model.module.state_dict().items()}}
        torch.save(self.seen, self.record)
        os.kill(os.getpid(), signal.SIGTERM)
