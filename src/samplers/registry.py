"""Samplers by name, checked against what the process can serve, and one entry point to sample."""

from __future__ import annotations

import logging

import torch

from src.processes.base import Process
from src.samplers.base import Denoiser, Sampler, noise_seeded_generators
from src.samplers.deterministic import DDIMSampler, DPMSolverPP2MSampler, EulerSampler, HeunSampler
from src.samplers.stochastic import AncestralSampler, DiffusersDDPMSampler

log = logging.getLogger(__name__)

SAMPLERS: dict[str, type[Sampler]] = {
    "ddim": DDIMSampler,
    "euler": EulerSampler,
    "heun": HeunSampler,
    "dpmpp_2m": DPMSolverPP2MSampler,
    "ancestral": AncestralSampler,
    "ddpm": DiffusersDDPMSampler,
}
DETERMINISTIC = ("ddim", "euler", "heun", "dpmpp_2m")


def check_sampler(name: str, process: Process, allowed: tuple[str, ...] | None = None, purpose: str = "") -> None:
    """ValueError naming the samplers that can serve `process` (and `purpose`, when the caller narrows them)."""
    usable = [n for n in process.samplers if allowed is None or n in allowed]
    where = f"{purpose} with the {process.name} process" if purpose else f"the {process.name} process"
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler={name!r}; {where} can use: {', '.join(usable)}")
    if name not in usable:
        raise ValueError(f"sampler={name} cannot serve {where}; it can use: {', '.join(usable)}")


def make_sampler(name: str, process: Process, eta: float | None = None,
                 allowed: tuple[str, ...] | None = None, purpose: str = "") -> Sampler:
    """The sampler `name` for `process` (and `purpose`, e.g. a generation mode, which may narrow the
    choice to `allowed`). `eta` sets the ancestral sampler's noise; with ddim, eta > 0 means DDIM's
    stochastic form, which is the ancestral sampler."""
    if eta is not None and name not in ("ancestral", "ddim"):
        raise ValueError(f"eta applies to sampler=ancestral (or ddim), not sampler={name}")
    if name == "ddim" and eta:
        name = "ancestral"
    check_sampler(name, process, allowed, purpose)
    if name == "ancestral":
        return AncestralSampler(1.0 if eta is None else eta)
    return SAMPLERS[name]()


@torch.no_grad()
def sample(denoiser: Denoiser, noise: torch.Tensor, steps: int, sampler: Sampler,
           generators: list[torch.Generator] | None = None) -> torch.Tensor:
    """Clean tensors from unit Gaussian `noise` in `steps` steps. Step noise, for stochastic
    samplers, comes from `generators` or else from generators seeded by each item's noise, so the
    same noise always gives the same output."""
    levels = denoiser.levels(steps).to(noise.device)
    if sampler.stochastic and generators is None:
        generators = noise_seeded_generators(noise)
    if generators is not None and len(generators) != noise.shape[0]:
        raise ValueError(f"got {len(generators)} generators for a batch of {noise.shape[0]}")
    x = denoiser.process.prior(noise, levels[0])
    return sampler.run(denoiser.on_grid(levels), x, levels, generators=generators)
