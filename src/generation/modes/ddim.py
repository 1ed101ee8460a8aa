"""Masked (RePaint-style) sampling and DDIM inversion, over any process.

Every process is a Gaussian path x_t = alpha(t) x_0 + sigma(t) eps with predictions of
(x_0, eps) (src/processes/base.py); the samplers of src/samplers walk it. Inpainting puts the
kept region back, noised to the current level, after every step; DDIM can also jump back and
redo each step (`resample`), for smoother seams."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from src.samplers.base import Denoiser, Sampler, ddim_step
from src.samplers.deterministic import DDIMSampler


@dataclass
class Known:
    """Values to keep: `mask` (1 = keep, broadcastable to x) over clean tensors `x0`."""

    x0: torch.Tensor
    mask: torch.Tensor


def add_noise(denoiser: Denoiser, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    alpha, sigma = denoiser.alpha_sigma(t, x0)
    return alpha * x0 + sigma * noise


def _renoise(denoiser: Denoiser, x: torch.Tensor, t_from: torch.Tensor, t_to: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
    """Move x from noise level t_from up to the noisier t_to (RePaint's 'jump back')."""
    a_from, s_from = denoiser.alpha_sigma(t_from, x)
    a_to, s_to = denoiser.alpha_sigma(t_to, x)
    ratio = a_to / a_from
    extra = (s_to**2 - (ratio * s_from) ** 2).clamp_min(0).sqrt()
    return ratio * x + extra * _randn_like(x, generator)


def _randn_like(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    # Drawn on the CPU from the caller's generator: identical results on every device.
    return torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


def _keep_known(denoiser: Denoiser, x: torch.Tensor, t: torch.Tensor, known: Known,
                generator: torch.Generator) -> torch.Tensor:
    noised = add_noise(denoiser, known.x0, t, _randn_like(x, generator))
    return known.mask * noised + (1 - known.mask) * x


@torch.no_grad()
def masked_sample(denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
                  known: Known | None = None, resample: int = 1, generator: torch.Generator | None = None,
                  sampler: Sampler | None = None) -> torch.Tensor:
    """Denoise x (at noise level levels[start]) down to levels[-1] with `sampler` (default DDIM).

    With `known`, after each step the kept region is replaced by the known values noised to the
    new level; with DDIM each step can be repeated `resample` times (jumping back one level in
    between) so the generated region harmonises with what is kept (RePaint)."""
    if resample < 1:
        raise ValueError(f"resample must be at least 1, got {resample}")
    sampler = sampler or DDIMSampler()
    generator = generator or torch.Generator().manual_seed(0)
    levels = levels.to(x.device)
    denoiser = denoiser.on_grid(levels)
    if not isinstance(sampler, DDIMSampler):
        if resample > 1:
            raise ValueError(f"resample={resample} needs sampler=ddim (RePaint jumps back one DDIM step at a time)")
        hook = None if known is None else (lambda y, i: _keep_known(denoiser, y, levels[i], known, generator))
        generators = [generator] * x.shape[0] if sampler.stochastic else None
        return sampler.run(denoiser, x, levels, start=start, hook=hook, generators=generators)
    for i in range(start, len(levels) - 1):
        for r in range(resample):
            x = ddim_step(denoiser, x, levels[i], levels[i + 1])
            if known is not None:
                x = _keep_known(denoiser, x, levels[i + 1], known, generator)
            if r < resample - 1:
                x = _renoise(denoiser, x, levels[i + 1], levels[i], generator)
    return x


@torch.no_grad()
def ddim_invert(denoiser: Denoiser, x0: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Run DDIM backwards (clean -> noise), giving the latent noise that DDIM maps back to x0.
    With the denoiser's `eps_scaling`, as `masked_sample` uses it on the same grid, so the two maps
    stay each other's inverse (tests/generation/test_modes.py)."""
    x = x0
    denoiser = denoiser.on_grid(levels)
    levels = levels.to(x0.device).flip(0)
    for i in range(len(levels) - 1):
        # Standard DDIM inversion: the noise predicted at the current level stands in for
        # the (unknown) noise at the next one; the error shrinks with more steps.
        x = ddim_step(denoiser, x, levels[i], levels[i + 1])
    return x
