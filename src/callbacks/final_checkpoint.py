"""last.ckpt at the step a run stops, however it stops: max_steps, early stopping, Ctrl+C,
SIGTERM (SLURM preemption, spot instances) or a crash.

Lightning's ModelCheckpoint writes only at validation or epoch ends, so a run that stops between
two of them would leave its newest steps (or, for a short run, everything) unsaved; and its
OnExceptionCheckpoint deletes what it wrote when the run tears down. This callback replaces the
latter and writes to the same last.ckpt that resuming reads."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback, ModelCheckpoint, WeightAveraging
from pytorch_lightning.trainer.states import RunningStage

log = logging.getLogger(__name__)


class FinalCheckpoint(Callback):
    """Saves `dirpath/filename.ckpt` when training ends or is interrupted, unless the newest save
    there is already of this step.

    With weight averaging (EMA) the file holds the averaged weights as `state_dict` and the online
    ones as `current_model_state`, like every other checkpoint, so a resume continues both."""

    def __init__(self, dirpath: str | Path, filename: str = "last") -> None:
        super().__init__()
        if not filename:
            raise ValueError("FinalCheckpoint needs a filename")
        self.path = Path(dirpath) / f"{filename}.ckpt"

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # WeightAveraging copies the average over the online weights in its own on_train_end;
        # this callback must save before that, so it goes ahead of any averaging callback.
        callbacks = trainer.callbacks
        averaging = [i for i, callback in enumerate(callbacks) if isinstance(callback, WeightAveraging)]
        if averaging and callbacks.index(self) > min(averaging):
            callbacks.remove(self)
            callbacks.insert(min(averaging), self)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.save(trainer, "the end of training")

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if trainer.state.fn != "fit" or trainer.sanity_checking:
            return  # nothing trained yet, or not a training run: an older last.ckpt stays as it was
        swapped = trainer.state.stage == RunningStage.VALIDATING
        if swapped:  # averaging callbacks swap the average in for validation; swap it back out
            self._swap_averages(trainer, pl_module)
        self.save(trainer, f"an interruption ({type(exception).__name__})")

    def save(self, trainer: pl.Trainer, why: str) -> None:
        if trainer.global_step == 0 or self.already_saved(trainer):
            return
        trainer.save_checkpoint(self.path)
        if trainer.is_global_zero:
            log.info("saved %s at step %d, at %s", self.path, trainer.global_step, why)

    def already_saved(self, trainer: pl.Trainer) -> bool:
        """Whether a ModelCheckpoint writing this same file saved it at this very step."""
        for callback in trainer.checkpoint_callbacks:
            if not isinstance(callback, ModelCheckpoint) or callback.dirpath is None:
                continue
            same_file = Path(callback.dirpath) / f"{callback.filename}.ckpt" == self.path
            if same_file and callback._last_global_step_saved == trainer.global_step:
                return True
        return False

    @staticmethod
    def _swap_averages(trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for callback in trainer.callbacks:
            if isinstance(callback, WeightAveraging) and callback._average_model is not None:
                callback._swap_models(pl_module)
