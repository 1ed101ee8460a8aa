"""Audio seconds generated per second of compute, per experiment and number of steps.

    python benchmarks/sampling_speed.py [exps=[drum_diffusion_demo]] [steps=[10,50]] [batch=4] [device=cpu]

Untrained weights: sampling cost does not depend on what the model learned."""

from __future__ import annotations

import sys
import tempfile
import time

import hydra
import torch

from common import experiment_config, markdown_table
from src.utils.cli import parse_cli, run_cli


def main(argv: list[str]) -> None:
    args = parse_cli({"exps": ["drum_diffusion_demo"], "steps": [10, 50], "batch": 4, "device": "cpu"}, argv)
    rows = []
    for exp in args.exps:
        cfg = experiment_config([f"exp={exp}"], tempfile.mkdtemp())
        model = hydra.utils.instantiate(cfg.model).eval().to(args.device)
        rep = model.representation
        model.generate(1, steps=2)  # warm-up: first calls pay for allocation and kernel selection
        for steps in args.steps:
            start = time.perf_counter()
            audio = model.generate(args.batch, steps=steps, generator=torch.Generator().manual_seed(0))
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
            audio_seconds = audio.shape[0] * audio.shape[-1] / rep.sample_rate
            rows.append([exp, steps, args.batch, f"{elapsed:.2f}", f"{audio_seconds / elapsed:.3f}"])
    header = ["exp", "steps", "clips", "seconds", "audio s / compute s"]
    sys.stdout.write(f"device {args.device}, torch threads {torch.get_num_threads()}\n"
                     + markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
