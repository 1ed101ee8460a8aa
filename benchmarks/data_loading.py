"""Can the data keep up? Clips/s of a DataModule's train loader vs clips/s the model consumes.

    python benchmarks/data_loading.py [exps=[drum_diffusion_demo]] [batches=30] [steps=5] [extra=[...]]

Loader speed: `batches` batches from the experiment's train dataloader at its configured
`num_workers` (first batch excluded: worker start-up). Model speed: `steps` training steps
(forward, backward, optimizer) on one batch on this machine's CPU. The ratio says how many
times faster loading is than training; below 1 the loader is the bottleneck."""

from __future__ import annotations

import itertools
import sys
import tempfile
import time

import hydra
import torch

from common import experiment_config, markdown_table
from src.utils.cli import parse_cli, run_cli


def loader_rate(datamodule, batches: int) -> tuple[float, torch.Tensor]:
    datamodule.prepare_data()
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    first = next(iter(loader))  # worker start-up is not part of the steady state
    start, clips = time.perf_counter(), 0
    # Whole epochs, again and again, until `batches` batches have been read.
    for batch in itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)), batches):
        clips += batch.shape[0]
    elapsed = time.perf_counter() - start
    return clips / elapsed if clips else float("nan"), first


def model_rate(model, batch: torch.Tensor, steps: int) -> float:
    optimizer = model.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.process.loss(model.network, model.representation.encode(batch))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return steps * batch.shape[0] / (time.perf_counter() - start)


def main(argv: list[str]) -> None:
    args = parse_cli({"exps": ["drum_diffusion_demo"], "batches": 30, "steps": 5, "extra": []}, argv)
    rows = []
    for exp in args.exps:
        cfg = experiment_config([f"exp={exp}", *args.extra], tempfile.mkdtemp())
        loading, batch = loader_rate(hydra.utils.instantiate(cfg.datamodule), args.batches)
        training = model_rate(hydra.utils.instantiate(cfg.model), batch, args.steps)
        rows.append([exp, cfg.datamodule.num_workers, cfg.datamodule.batch_size, f"{loading:.1f}", f"{training:.1f}",
                     f"{loading / training:.1f}"])
    header = ["exp", "workers", "batch", "loader clips/s", "model clips/s", "loader / model"]
    sys.stdout.write(f"torch threads {torch.get_num_threads()}\n" + markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
