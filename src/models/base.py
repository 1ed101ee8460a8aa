"""What every LightningModule of this framework shares: config-built optimizers and
checkpoints that carry the run's config."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins.precision import MixedPrecision

from src.checkpoints.files import CONFIG_KEY

log = logging.getLogger(__name__)


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
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = self.optimizer_factory(params=params, **self._unfused_if_clipped_in_mixed_precision())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def _unfused_if_clipped_in_mixed_precision(self) -> dict[str, bool]:
        """{"fused": False} where a fused optimizer meets gradient clipping under mixed precision.

        A fused optimizer unscales gradients inside its own step, so Lightning cannot clip them first
        and stops the run; the per-tensor optimizer computes the same update, only slower."""
        trainer = self._trainer
        fused = getattr(self.optimizer_factory, "keywords", {}).get("fused")
        if not fused or trainer is None or not trainer.gradient_clip_val:
            return {}
        if not isinstance(trainer.precision_plugin, MixedPrecision):
            return {}
        log.warning("model.optimizer.fused=true cannot clip gradients under trainer.precision=%s "
                    "(trainer.gradient_clip_val=%s): using the unfused optimizer", trainer.precision,
                    trainer.gradient_clip_val)
        return {"fused": False}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.run_config is not None:
            checkpoint[CONFIG_KEY] = self.run_config
