"""Quality against sampling steps, per sampler, counted as steps and as network evaluations.

    python benchmarks/sampler_steps.py ckpt=<run>/checkpoints/last.ckpt [samplers=[ddim,heun,dpmpp_2m]]
        [steps=[1,2,4,10,25,50,100]] [num_samples=48] [seed=0]

Every row samples the same noise with one sampler at one step count and scores the clips on the floor
scale against the held-out kit (see benchmarks/scoring.py); seconds are wall time of the sampling,
comparable within the run only."""

from __future__ import annotations

import sys
import time

from common import markdown_table
from scoring import SCALE_HEADER, floor_scores, generate_clips, scale_cells
from src.generation.checkpoint import load_model
from src.utils.cli import parse_cli, run_cli


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "samplers": None, "steps": [1, 2, 4, 10, 25, 50, 100],
                            "num_samples": 48, "seed": 0, "bootstrap": 200}, argv)
    model, config = load_model(args.ckpt)
    samplers = args.samplers or [model.sampler]
    rows = []
    for name in samplers:
        sampler = model.make_sampler(name)
        for steps in args.steps:
            start = time.perf_counter()
            audio = generate_clips(model, args.num_samples, steps, args.seed, name)
            seconds = time.perf_counter() - start
            result = floor_scores(model, audio, args.seed, args.bootstrap)
            rows.append([name, steps, sampler.evaluations(steps), f"{seconds:.0f}", *scale_cells(result)])
            sys.stderr.write(f"{name} {steps}: {rows[-1]}\n")
    sys.stdout.write(f"{config.get('task_name')}: {model.process.describe()}, {args.num_samples} clips, seed {args.seed}\n")
    sys.stdout.write(markdown_table(["sampler", "steps", "network evaluations", "seconds", *SCALE_HEADER], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
