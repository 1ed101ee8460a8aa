"""Deterministic samplers of the probability-flow ODE, for any Gaussian-path process.

Written with alpha(t), sigma(t) and the predictions (x0, eps), they never divide by alpha,
so they start at pure noise (alpha = 0) as well as at EDM's sigma_max."""

from __future__ import annotations

import torch

from src.samplers.base import Denoiser, Sampler, StepHook, apply_hook, ddim_step


class DDIMSampler(Sampler):
    """DDIM (Song et al. 2021) with eta = 0. It is also Euler's method on the ODE in the
    variable sigma / alpha (and plain Euler for rectified flow's straight path), so `euler`
    names the same sampler."""

    name = "ddim"

    def run(self, denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
            hook: StepHook | None = None, generators: list[torch.Generator] | None = None) -> torch.Tensor:
        for i in range(start, len(levels) - 1):
            x = apply_hook(ddim_step(denoiser, x, levels[i], levels[i + 1]), i + 1, hook)
        return x


class EulerSampler(DDIMSampler):
    """Euler's method on the probability-flow ODE: the same update as DDIM, under the name flow
    users know it by."""

    name = "euler"


class HeunSampler(Sampler):
    """Heun's second-order method (Karras et al. 2022), applied to the ODE written for the
    clean-data prediction: z = x / sigma moves along dz/d(alpha/sigma) = x0. Every step but the
    last (to the clean end, where it would divide by sigma = 0) corrects Euler with a second
    evaluation: 2 * steps - 1 network evaluations."""

    name = "heun"

    def evaluations(self, steps: int) -> int:
        return 2 * steps - 1

    def run(self, denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
            hook: StepHook | None = None, generators: list[torch.Generator] | None = None) -> torch.Tensor:
        for i in range(start, len(levels) - 1):
            t, t_next = levels[i], levels[i + 1]
            x0, eps = denoiser.predict(x, t)
            alpha, sigma = denoiser.alpha_sigma(t, x)
            alpha_next, sigma_next = denoiser.alpha_sigma(t_next, x)
            euler = alpha_next * x0 + sigma_next * eps
            if i == len(levels) - 2 or float(sigma_next.max()) == 0.0:
                x = apply_hook(euler, i + 1, hook)
                continue
            x0_next, _ = denoiser.predict(euler, t_next)
            # Euler is x_next = (sigma_next / sigma) x + (alpha_next - sigma_next * alpha / sigma) x0;
            # Heun replaces x0 by the mean of the predictions at both ends.
            ratio = sigma_next / sigma
            x = ratio * x + (alpha_next - ratio * alpha) * 0.5 * (x0 + x0_next)
            x = apply_hook(x, i + 1, hook)
        return x


def _log_snr(alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """log(alpha / sigma): -inf at pure noise, +inf at the clean end."""
    return alpha.clamp_min(0).log() - sigma.clamp_min(0).log()


class DPMSolverPP2MSampler(Sampler):
    """DPM-Solver++(2M) (Lu et al. 2022): second-order multistep on the clean-data prediction in
    log-SNR time, one network evaluation per step. The first step and the last one (to the clean
    end, an infinite log-SNR step) are first order, which is DDIM; the rest extrapolate the
    clean-data prediction from the previous step's."""

    name = "dpmpp_2m"

    def run(self, denoiser: Denoiser, x: torch.Tensor, levels: torch.Tensor, start: int = 0,
            hook: StepHook | None = None, generators: list[torch.Generator] | None = None) -> torch.Tensor:
        previous: tuple[torch.Tensor, torch.Tensor] | None = None  # (x0, step size h) of the last step
        for i in range(start, len(levels) - 1):
            t, t_next = levels[i], levels[i + 1]
            x0, eps = denoiser.predict(x, t)
            alpha, sigma = denoiser.alpha_sigma(t, x)
            alpha_next, sigma_next = denoiser.alpha_sigma(t_next, x)
            h = _log_snr(alpha_next, sigma_next) - _log_snr(alpha, sigma)
            finite = bool(torch.isfinite(h).all())
            if previous is None or not finite or not bool(torch.isfinite(previous[1]).all()):
                x_next = alpha_next * x0 + sigma_next * eps  # first order: DDIM
            else:
                r = previous[1] / h
                blended = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * previous[0]
                x_next = (sigma_next / sigma) * x - alpha_next * torch.expm1(-h) * blended
            previous = (x0, h)
            x = apply_hook(x_next, i + 1, hook)
        return x
