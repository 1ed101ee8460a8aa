"""Samplers are written once against the process interface (src/processes/base.py).

A `Denoiser` binds a process to a network; a sampler walks the process's schedule with it.
`steps` counts sampling steps; `evaluations(steps)` counts network evaluations per clip."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch

from src.networks.base import NetworkFn
from src.processes.base import Process, per_item

# Called after each step with (x, index of the level x is now at); returns the x to go on with.
# Inpainting uses it to put the kept region back (RePaint).
StepHook = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass
class Denoiser:
    process: Process
    network: NetworkFn

    def levels(self, steps: int) -> torch.Tensor:
        return self.process.schedule(steps)

    def alpha_sigma(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha(t), sigma(t) shaped to broadcast against `like`."""
        alpha, sigma = self.process.alpha_sigma(t)
        return per_item(alpha, like), per_item(sigma, like)

    def predict(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.process.denoise(self.network, x, t)


def noise_seeded_generators(noise: torch.Tensor) -> list[torch.Generator]:
    """One CPU generator per item, seeded by a hash of that item's noise.

    Step noise (ancestral, DDPM) then depends only on the initial noise of the same clip:
    whoever seeds the noise (generate.py's seed, the sample logger's fixed noise) fixes the
    whole trajectory, independent of batch size and device."""
    generators = []
    for item in noise.detach().float().cpu():
        digest = hashlib.sha256(item.contiguous().numpy().tobytes()).digest()
        generators.append(torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1))
    return generators


def per_item_noise(x: torch.Tensor, generators: list[torch.Generator]) -> torch.Tensor:
    """Unit Gaussian noise like x, each item drawn on the CPU from its own generator."""
    return torch.stack([torch.randn(x.shape[1:], generator=g) for g in generators]).to(x.device, x.dtype)


class Sampler(ABC):
    """Turns noise at levels[start] into clean tensors at levels[-1].

    `stochastic` samplers draw step noise from `generators` (one per item)."""

    name: str = ""
    stochastic: bool = False

    def evaluations(self, steps: int) -> int:
        """Network evaluations per clip for `steps` steps."""
        return steps

    @abstractmethod
    def run(self, denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
            hook: StepHook | None = None, generators: list[torch.Generator] | None = None) -> torch.Tensor:
        """x at levels[start] -> x at levels[-1]."""


def apply_hook(x: torch.Tensor, index: int, hook: StepHook | None) -> torch.Tensor:
    return hook(x, index) if hook is not None else x


def ddim_step(denoiser: Denoiser, x: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor) -> torch.Tensor:
    """One deterministic DDIM step: predict (x0, eps) at t and recombine them at t_next."""
    x0, eps = denoiser.predict(x, t)
    alpha, sigma = denoiser.alpha_sigma(t_next, x)
    return alpha * x0 + sigma * eps
