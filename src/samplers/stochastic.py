"""Samplers that add fresh noise at every step."""

from __future__ import annotations

import torch
from diffusers import DDPMScheduler

from src.samplers.base import Denoiser, Sampler, StepHook, apply_hook, per_item_noise


class AncestralSampler(Sampler):
    """DDIM with eta > 0 (eta = 1: DDPM's ancestral sampling; for EDM, Euler ancestral).

    From t to t_next it keeps part of the predicted noise and replaces the rest with fresh noise:
    x_next = alpha' x0 + sigma' (sqrt(1 - eta^2 (1 - c^2)) eps + eta sqrt(1 - c^2) z), where
    c = (sigma' alpha) / (alpha' sigma) is the ratio of the two noise-to-signal levels. The marginal
    at t_next is the process's, whatever eta."""

    name = "ancestral"
    stochastic = True

    def __init__(self, eta: float = 1.0) -> None:
        if not 0.0 <= eta <= 1.0:
            raise ValueError(f"eta must be between 0 (deterministic DDIM) and 1 (ancestral), got {eta}")
        self.eta = eta

    def run(self, denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
            hook: StepHook | None = None, generators: list[torch.Generator] | None = None) -> torch.Tensor:
        if generators is None:
            raise ValueError("the ancestral sampler needs one generator per item")
        for i in range(start, len(levels) - 1):
            x0, eps = denoiser.predict(x, levels[i])
            alpha, sigma = denoiser.alpha_sigma(levels[i], x)
            alpha_next, sigma_next = denoiser.alpha_sigma(levels[i + 1], x)
            c = (sigma_next * alpha / (alpha_next * sigma).clamp_min(1e-12)).clamp(0.0, 1.0)
            fresh = self.eta * (1 - c**2).sqrt()
            kept = (1 - fresh**2).clamp_min(0).sqrt()
            x = alpha_next * x0 + sigma_next * (kept * eps + fresh * per_item_noise(x, generators))
            x = apply_hook(x, i + 1, hook)
        return x


class DiffusersDDPMSampler(Sampler):
    """diffusers' DDPMScheduler, for the ddpm process only: what teticio's pipelines run.

    The process's (x0, eps) go to the scheduler as an epsilon prediction; its step noise comes
    from one generator per item."""

    name = "ddpm"
    stochastic = True

    def run(self, denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
            hook: StepHook | None = None, generators: list[torch.Generator] | None = None) -> torch.Tensor:
        config = dict(denoiser.process.scheduler.config)
        # From eps the scheduler re-derives x0 (and clips it when clip_sample is on) exactly as it
        # would from the network's own epsilon, v or sample prediction.
        scheduler = DDPMScheduler.from_config({**config, "prediction_type": "epsilon"})
        scheduler.set_timesteps(len(levels) - 1, device=x.device)
        for i, t in enumerate(scheduler.timesteps):
            if i < start:
                continue
            _, eps = denoiser.predict(x, t)
            x = scheduler.step(eps, t, x, generator=generators).prev_sample
            x = apply_hook(x, i + 1, hook)
        return x
