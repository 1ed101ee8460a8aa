"""Samplers are written once against the process interface (src/processes/base.py).

A `Denoiser` binds a process to a network; a sampler walks the process's schedule with it.
`steps` counts sampling steps; `evaluations(steps)` counts network evaluations per clip."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch

from src.networks.base import NetworkFn
from src.processes.base import Process, per_item

# Called after each step with (x, index of the level x is now at); returns the x to go on with.
# Inpainting uses it to put the kept region back (RePaint).
StepHook = Callable[[torch.Tensor, int], torch.Tensor]


def check_eps_scaling(value: float) -> float:
    """`value` as a float, or a ValueError naming the setting."""
    if not float(value) >= 0.0:  # also refuses NaN
        raise ValueError(f"model.eps_scaling (eps_scaling=) must be 0 (off) or positive, got {value}")
    return float(value)


@dataclass
class Denoiser:
    """A process bound to a network.

    `eps_scaling` c > 0 corrects the exposure bias of few-step sampling (Ning et al. 2024, "Epsilon
    Scaling"): the sampler's inputs drift from what training showed the network, because each step
    lands on an imperfect prediction, and a network handed such inputs overestimates the noise left.
    On a grid of n steps every predicted noise is divided by 1 + c / n (`on_grid`), and the clean
    prediction recomputed from it, so the correction follows the step size. 0 = as trained."""

    process: Process
    network: NetworkFn
    eps_scaling: float = field(default=0.0, kw_only=True)
    eps_divisor: float = field(default=1.0, kw_only=True)  # set by on_grid

    def __post_init__(self) -> None:
        check_eps_scaling(self.eps_scaling)

    def levels(self, steps: int) -> torch.Tensor:
        return self.process.schedule(steps)

    def on_grid(self, levels: torch.Tensor) -> Denoiser:
        """This denoiser with its noise divisor set for the grid `levels` (one step fewer than levels)."""
        if not self.eps_scaling:
            return self
        return replace(self, eps_divisor=1.0 + self.eps_scaling / max(len(levels) - 1, 1))

    def alpha_sigma(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha(t), sigma(t) shaped to broadcast against `like`."""
        alpha, sigma = self.process.alpha_sigma(t)
        return per_item(alpha, like), per_item(sigma, like)

    def predict(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x0, eps = self.process.denoise(self.network, x, t)
        if self.eps_divisor == 1.0:
            return x0, eps
        # x = alpha x0 + sigma eps holds for every process; where alpha = 0 (pure noise) x0 cannot be
        # recovered from x, and the input is all noise anyway, so that level keeps its prediction
        alpha, sigma = self.alpha_sigma(t, x)
        scaled = eps / self.eps_divisor
        signal = alpha.abs() > 1e-6
        x0_scaled = (x - sigma * scaled) / torch.where(signal, alpha, torch.ones_like(alpha))
        return torch.where(signal, x0_scaled, x0), torch.where(signal, scaled, eps)


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
