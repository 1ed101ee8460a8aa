"""What every LightningModule of this framework shares: config-built optimizers and
checkpoints that carry the run's config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch

from src.checkpoints.files import CONFIG_KEY


class ConfiguredModule(pl.LightningModule):
    """Args:
        optimizer: partial optimizer (from `_partial_: true` config) taking the parameters.
        scheduler: optional partial LR scheduler taking the optimizer; stepped every optimizer step.
    """

    def __init__(self, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.run_config: dict | None = None  # set by train.py; written into every checkpoint

    def configure_optimizers(self) -> Any:
        # Frozen parts (a latent model's VAE) stay out of the optimizer and its state.
        optimizer = self.optimizer_factory(params=[p for p in self.parameters() if p.requires_grad])
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.run_config is not None:
            checkpoint[CONFIG_KEY] = self.run_config
