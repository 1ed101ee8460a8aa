"""Sampler accuracy per network evaluation, on an exact denoiser, for every process.

    python benchmarks/sampler_accuracy.py [evaluations=[5,9,17,33,65]] [clips=16] [seed=0]

With Gaussian data (src/samplers/oracle.py) the probability-flow ODE has a closed-form solution, so
each sampler's error is measured without training anything: the mean absolute difference to the exact
solution, relative to the data's spread, at a given number of network evaluations per clip. This is
the error of the solver alone; a trained network adds its own."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from src.processes.ddpm import DDPMProcess
from src.processes.edm import EDMProcess
from src.processes.rectified_flow import RectifiedFlowProcess
from src.processes.v_cosine import VCosineProcess
from src.samplers.oracle import GaussianOracle
from src.samplers.registry import make_sampler, sample
from src.utils.cli import parse_cli, run_cli

PROCESSES = {"v_cosine": VCosineProcess, "edm": EDMProcess, "rectified_flow": RectifiedFlowProcess,
             "ddpm": lambda: DDPMProcess(clip_sample=False)}
SAMPLERS = ("ddim", "heun", "dpmpp_2m")


def steps_for(sampler: str, evaluations: int) -> int:
    return (evaluations + 1) // 2 if sampler == "heun" else evaluations


def main(argv: list[str]) -> None:
    args = parse_cli({"evaluations": [5, 9, 17, 33, 65], "clips": 16, "seed": 0}, argv)
    noise = torch.randn(args.clips, 1, 256, generator=torch.Generator().manual_seed(args.seed))
    rows = []
    for name, build in PROCESSES.items():
        oracle = GaussianOracle(build(), None)
        for sampler in SAMPLERS:
            cells = []
            for evaluations in args.evaluations:
                steps = steps_for(sampler, evaluations)
                out = sample(oracle, noise, steps, make_sampler(sampler, oracle.process))
                cells.append(f"{float((out - oracle.exact(noise, steps)).abs().mean()) / oracle.std:.4f}")
            rows.append([name, sampler, *cells])
    header = ["process", "sampler", *[f"{n} evaluations" for n in args.evaluations]]
    sys.stdout.write(markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
