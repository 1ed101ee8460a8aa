"""What model.null_copies costs a training step: the loss, its backward pass and the clipped optimizer step.

    python benchmarks/null_copies_cost.py [exp=drum_diffusion_demo] [copies=[0,1,2]] [calls=20] [rounds=5]

On the experiment's model, given the kit's three labels, and one batch of random clips of its shape
(the cost does not depend on the audio): each setting in turn each round, so a noisy machine slows
them alike. Seconds per step, medians of `rounds` rounds, and the ratio to the first setting."""

from __future__ import annotations

import sys
import tempfile

import hydra
import torch

from common import alternate, experiment_config, markdown_table
from src.utils.cli import parse_cli, run_cli

LABELS = ["hihat", "kick", "snare"]


def stepper(model, optimizer, batch, copies: int, calls: int, clip: float):
    def run() -> None:
        model.null_copies = copies
        for _ in range(calls):
            optimizer.zero_grad()
            model.training_step(batch, 0).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
    return run


def main(argv: list[str]) -> None:
    args = parse_cli({"exp": "drum_diffusion_demo", "copies": [0, 1, 2], "calls": 20, "rounds": 5}, argv)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = experiment_config([f"exp={args.exp}", f"model.labels=[{','.join(LABELS)}]",
                                 f"model.network.num_classes={len(LABELS)}"], tmp)
        torch.manual_seed(cfg.seed)
        model = hydra.utils.instantiate(cfg.model)
        model.train()
        model.log = lambda *a, **k: None  # no Trainer to log to
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        size = cfg.datamodule.batch_size
        shape = (size, cfg.audio.channels, cfg.audio.length)
        batch = (0.1 * torch.randn(shape), torch.arange(size) % len(LABELS))
        clip = cfg.trainer.gradient_clip_val or 1.0
        candidates = {copies: stepper(model, optimizer, batch, copies, args.calls, clip) for copies in args.copies}
        for fn in candidates.values():
            fn()  # warm-up: allocations and the optimizer's state
        medians = alternate(candidates, args.rounds)
    base = medians[args.copies[0]]
    rows = [[copies, f"{seconds / args.calls:.4f}", f"{seconds / base:.3f}"] for copies, seconds in medians.items()]
    sys.stdout.write(markdown_table(["model.null_copies", "seconds per step", "ratio"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
