"""An exact denoiser for Gaussian data, and the exact solution of its probability-flow ODE.

For x_0 ~ N(mean, std^2) per element the posterior means of (x_0, eps) are closed-form, and the
ODE maps each standardised value at the noisiest level to the same standardised value of the data.
Samplers run on it can be measured against the truth: the tests and benchmarks/sampler_accuracy.py
do, for every process."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from src.processes.base import Process
from src.samplers.base import Denoiser


@dataclass
class GaussianOracle(Denoiser):
    mean: float = 0.3
    std: float = 0.2

    def predict(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha, sigma = self.alpha_sigma(t, x)
        x0 = self.mean + alpha * self.std**2 / (alpha**2 * self.std**2 + sigma**2) * (x - alpha * self.mean)
        return x0, (x - alpha * x0) / sigma.clamp_min(1e-12)

    def exact(self, noise: torch.Tensor, steps: int) -> torch.Tensor:
        """What a perfect ODE solver makes of `noise` on this process's `steps`-step schedule (DDPM's
        noisiest sampled timestep depends on the step count)."""
        process: Process = self.process
        t0 = process.schedule(steps)[0]
        x_start = process.prior(noise, t0)
        alpha, sigma = (torch.as_tensor(v) for v in process.alpha_sigma(t0))
        return self.mean + self.std * (x_start - alpha * self.mean) / (alpha**2 * self.std**2 + sigma**2).sqrt()
