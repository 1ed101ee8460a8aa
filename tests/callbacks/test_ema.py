import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EMAWeightAveraging, ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset

from src.callbacks.ema import ForeachEMAWeightAveraging


class Regression(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.SiLU(), torch.nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return (self.net(x) - y).square().mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def data() -> DataLoader:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(64, 4, generator=generator)
    return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)


def fit(ema: pl.Callback, tmp_path, steps: int = 16, ckpt: str | None = None,
        raw: bool = False) -> tuple[pl.Trainer, Regression]:
    """Trains 16 steps (from `ckpt` if given); `raw` resumes from the checkpoint's raw weights alone."""
    model = Regression()
    if raw:
        model.load_state_dict(torch.load(ckpt, weights_only=False)["current_model_state"])
        ckpt = None
    every_epoch = ModelCheckpoint(dirpath=tmp_path, filename="epoch{epoch}", auto_insert_metric_name=False, save_top_k=-1, every_n_epochs=1)
    trainer = pl.Trainer(max_steps=steps, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         accelerator="cpu", callbacks=[ema, every_epoch], default_root_dir=tmp_path)
    trainer.fit(model, train_dataloaders=data(), ckpt_path=ckpt)
    return trainer, model


def test_the_one_call_update_keeps_lightnings_average(tmp_path):
    # After fit both callbacks leave the average in the module; it must be the same average.
    _, lightning = fit(EMAWeightAveraging(decay=0.7), tmp_path / "a")
    _, foreach = fit(ForeachEMAWeightAveraging(decay=0.7), tmp_path / "b")
    _, raw = fit(pl.Callback(), tmp_path / "c")
    for a, b, c in zip(lightning.parameters(), foreach.parameters(), raw.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
        assert not torch.allclose(b, c)  # the average is not the raw weights


def test_a_run_saved_with_lightnings_class_resumes_as_under_it(tmp_path):
    # Eight batches an epoch: the first epoch's checkpoint holds the raw and the averaged weights at step 8.
    fit(EMAWeightAveraging(decay=0.7), tmp_path / "a")
    saved = tmp_path / "a" / "epoch0.ckpt"
    checkpoint = torch.load(saved, weights_only=False)
    assert ForeachEMAWeightAveraging().state_key in checkpoint["callbacks"] and "current_model_state" in checkpoint
    _, foreach = fit(ForeachEMAWeightAveraging(decay=0.7), tmp_path / "b", ckpt=str(saved))
    _, lightning = fit(EMAWeightAveraging(decay=0.7), tmp_path / "c", ckpt=str(saved))
    _, averages_lost = fit(ForeachEMAWeightAveraging(decay=0.7), tmp_path / "d", ckpt=str(saved), raw=True)
    for a, b, c in zip(foreach.parameters(), lightning.parameters(), averages_lost.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
        assert not torch.allclose(a, c)  # the test can tell a resumed average from one restarted


def test_decay_outside_zero_to_one_names_the_setting():
    with pytest.raises(ValueError, match="callbacks.ema.decay"):
        ForeachEMAWeightAveraging(decay=1.5)
