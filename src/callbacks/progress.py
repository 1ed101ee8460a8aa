"""A progress bar over the run's optimizer steps, with an ETA.

Runs are budgeted in `trainer.max_steps`; Lightning's bar restarts every epoch ("Epoch 16 … 6/6"),
which on a small dataset says nothing about when the run ends."""

from __future__ import annotations

import math

import pytorch_lightning as pl
from pytorch_lightning.callbacks import TQDMProgressBar


class StepProgressBar(TQDMProgressBar):
    """One bar from the first to the last optimizer step (steps done / total, rate and time left);
    the epoch moves into the description. Validation keeps Lightning's own bar."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        total = trainer.estimated_stepping_batches  # max_steps, or what max_epochs amounts to
        bar = self.train_progress_bar
        bar.reset(total=None if math.isinf(total) else int(total))
        bar.initial = bar.n = trainer.global_step  # a resumed run counts on, and its rate starts afresh
        bar.unit = "step"
        bar.refresh()

    def on_train_epoch_start(self, trainer: pl.Trainer, *_args) -> None:
        self.train_progress_bar.set_description(f"steps (epoch {trainer.current_epoch})")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *_args) -> None:
        step, bar = trainer.global_step, self.train_progress_bar
        if bar.disable or step == bar.n:
            return  # gradient accumulation: no optimizer step yet
        if step % self.refresh_rate == 0 or step == bar.total:
            bar.n = step
            bar.set_postfix(self.get_metrics(trainer, pl_module))  # also redraws the bar

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))
