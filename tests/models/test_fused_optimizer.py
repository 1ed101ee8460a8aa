import functools
import logging

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from src.models.base import ConfiguredModule


class Tiny(ConfiguredModule):
    def __init__(self) -> None:
        super().__init__(optimizer=functools.partial(torch.optim.AdamW, lr=1e-3, fused=True))
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        return self.net(batch[0]).float().square().mean()


@pytest.mark.parametrize("precision, fused", [("32-true", True), ("bf16-mixed", False)])
def test_a_fused_optimizer_is_kept_unless_clipping_under_mixed_precision_forbids_it(precision, fused, caplog):
    model = Tiny()
    trainer = pl.Trainer(max_steps=2, accelerator="cpu", precision=precision, gradient_clip_val=0.5, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    with caplog.at_level(logging.WARNING):
        trainer.fit(model, DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=4))
    assert trainer.global_step == 2  # Lightning stops a fused optimizer it cannot clip; this run went on
    assert bool(trainer.optimizers[0].defaults["fused"]) == fused
    assert ("model.optimizer.fused=true cannot clip" in caplog.text) == (not fused)
