"""One training step through our LightningModule + Trainer vs a bare PyTorch loop.

    python benchmarks/framework_overhead.py [exp=drum_diffusion_demo] [steps=30] [rounds=5]

Same model, batch, optimizer and loss; the Lightning run has logging, progress bar and
checkpointing off (callbacks that write files are measured in the full recipe, not here).
Reports the median seconds per step of each and their ratio (goal: <= 1.05)."""

from __future__ import annotations

import sys
import tempfile

import hydra
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from common import alternate, experiment_config, markdown_table
from src.utils.cli import parse_cli, run_cli


class _FixedBatches(pl.LightningDataModule):
    def __init__(self, batch: torch.Tensor, steps: int) -> None:
        super().__init__()
        self.data = batch.repeat(steps, 1, 1)
        self.batch_size = batch.shape[0]

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_Unwrap(TensorDataset(self.data)), batch_size=self.batch_size)


class _Unwrap(torch.utils.data.Dataset):
    def __init__(self, inner: TensorDataset) -> None:
        self.inner = inner

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.inner[i][0]


def main(argv: list[str]) -> None:
    args = parse_cli({"exp": "drum_diffusion_demo", "steps": 30, "rounds": 5}, argv)
    cfg = experiment_config([f"exp={args.exp}"], tempfile.mkdtemp())
    shape = (cfg.datamodule.batch_size, cfg.audio.channels, cfg.audio.length)
    batch = torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 0.3
    torch.manual_seed(0)
    model = hydra.utils.instantiate(cfg.model)

    def bare() -> None:
        optimizer = model.configure_optimizers()
        for _ in range(args.steps):
            loss = model.process.loss(model.network, model.representation.encode(batch))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    def lightning() -> None:
        trainer = pl.Trainer(max_steps=args.steps, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                             num_sanity_val_steps=0, limit_val_batches=0)
        trainer.fit(model, datamodule=_FixedBatches(batch, args.steps))

    medians = alternate({"bare PyTorch loop": bare, "LightningModule + Trainer": lightning}, args.rounds)
    per_step = {name: seconds / args.steps for name, seconds in medians.items()}
    ratio = per_step["LightningModule + Trainer"] / per_step["bare PyTorch loop"]
    rows = [[name, f"{value * 1000:.1f}"] for name, value in per_step.items()]
    rows.append(["ratio (Lightning / bare)", f"{ratio:.3f}"])
    sys.stdout.write(f"exp={args.exp}, batch {tuple(shape)}, {args.steps} steps x {args.rounds} rounds "
                     f"(median), torch threads {torch.get_num_threads()}\n")
    sys.stdout.write(markdown_table(["loop", "ms / step"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
