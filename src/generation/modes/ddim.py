"""Deterministic (DDIM) sampling, inversion and masked (RePaint-style) sampling over any backend.

Every backend is a variance-preserving process x_t = alpha(t) x_0 + sigma(t) eps and
predicts (x_0, eps) from x_t; one DDIM step re-combines those predictions at the next
noise level. With the v-diffusion backend this is exactly audio-diffusion-pytorch's VSampler."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from src.backends.base import DiffusionBackend


@dataclass
class Known:
    """Values to keep: `mask` (1 = keep, broadcastable to x) over clean tensors `x0`."""

    x0: torch.Tensor
    mask: torch.Tensor


def add_noise(backend: DiffusionBackend, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    alpha, sigma = backend.alpha_sigma(t)
    return alpha * x0 + sigma * noise


def _renoise(backend: DiffusionBackend, x: torch.Tensor, t_from: torch.Tensor, t_to: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
    """Move x from noise level t_from up to the noisier t_to (RePaint's 'jump back')."""
    a_from, s_from = backend.alpha_sigma(t_from)
    a_to, s_to = backend.alpha_sigma(t_to)
    ratio = a_to / a_from
    extra = (s_to**2 - (ratio * s_from) ** 2).clamp_min(0).sqrt()
    return ratio * x + extra * _randn_like(x, generator)


def _randn_like(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    # Drawn on the CPU from the caller's generator: identical results on every device.
    return torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


@torch.no_grad()
def ddim_sample(backend: DiffusionBackend, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
                known: Known | None = None, resample: int = 1,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Denoise x (at noise level levels[start]) down to levels[-1].

    With `known`, after each step the kept region is replaced by the known values noised to
    the new level, and each step is repeated `resample` times (jumping back one level in
    between) so the generated region harmonises with what is kept (RePaint)."""
    if resample < 1:
        raise ValueError(f"resample must be at least 1, got {resample}")
    generator = generator or torch.Generator().manual_seed(0)
    levels = levels.to(x.device)
    for i in range(start, len(levels) - 1):
        for r in range(resample):
            x0, eps = backend.predict(x, levels[i])
            x = add_noise(backend, x0, levels[i + 1], eps)
            if known is not None:
                noised = add_noise(backend, known.x0, levels[i + 1], _randn_like(x, generator))
                x = known.mask * noised + (1 - known.mask) * x
            if r < resample - 1:
                x = _renoise(backend, x, levels[i + 1], levels[i], generator)
    return x


@torch.no_grad()
def ddim_invert(backend: DiffusionBackend, x0: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Run DDIM backwards (clean -> noise), giving the latent noise that DDIM maps back to x0."""
    x = x0
    levels = levels.to(x0.device).flip(0)
    for i in range(len(levels) - 1):
        # Standard DDIM inversion: the noise predicted at the current level stands in for
        # the (unknown) noise at the next one; the error shrinks with more steps.
        x0_hat, eps = backend.predict(x, levels[i])
        x = add_noise(backend, x0_hat, levels[i + 1], eps)
    return x
