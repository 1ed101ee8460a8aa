"""EDM (Karras et al. 2022): preconditioning, log-normal noise levels in training, EDM weighting.

x_sigma = x_0 + sigma * eps (alpha = 1); model time is sigma itself. The denoiser is
D(x) = c_skip x + c_out F(c_in x, c_noise) with c_skip = sd^2 / (sigma^2 + sd^2),
c_out = sigma sd / sqrt(sigma^2 + sd^2), c_in = 1 / sqrt(sigma^2 + sd^2), c_noise = ln(sigma) / 4,
so the network sees unit-variance inputs and targets at every level. Training draws
ln(sigma) ~ N(p_mean, p_std^2) and weights ||D - x_0||^2 by (sigma^2 + sd^2) / (sigma sd)^2.
Sampling walks Karras' rho-spaced levels from sigma_max to sigma_min, then to 0."""

from __future__ import annotations

import torch

from src.networks.base import NetworkFn
from src.processes.base import Process, batch_times, per_item


class EDMProcess(Process):
    """Args:
        sigma_data: standard deviation of the clean data (sd above); set it near the data's own.
        sigma_min, sigma_max: the sampling range of noise levels.
        rho: spacing of the sampling levels (7: more steps at low noise).
        p_mean, p_std: log-normal distribution of training noise levels.
    """

    name = "edm"
    default_sampler = "dpmpp_2m"  # best per network evaluation on the exact-denoiser benchmark (benchmarks/README.md)

    def __init__(self, sigma_data: float = 0.5, sigma_min: float = 0.002, sigma_max: float = 80.0,
                 rho: float = 7.0, p_mean: float = -1.2, p_std: float = 1.2) -> None:
        super().__init__()
        if not 0 < sigma_min < sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min} and {sigma_max}")
        if sigma_data <= 0 or rho <= 0 or p_std <= 0:
            raise ValueError(f"sigma_data, rho and p_std must be positive, got {sigma_data}, {rho}, {p_std}")
        self.sigma_data = sigma_data
        self.sigma_min = sigma_min
        self.sigma_max = sigma_max
        self.rho = rho
        self.p_mean = p_mean
        self.p_std = p_std

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sigma = torch.as_tensor(t)
        return torch.ones_like(sigma), sigma

    def schedule(self, steps: int) -> torch.Tensor:
        self.check_steps(steps)
        ramp = torch.linspace(0.0, 1.0, steps)
        low, high = self.sigma_min ** (1 / self.rho), self.sigma_max ** (1 / self.rho)
        sigmas = (high + ramp * (low - high)) ** self.rho
        return torch.cat([sigmas, torch.zeros(1)])

    def denoised(self, network: NetworkFn, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """D(x; sigma) for one sigma per item."""
        s, sd = per_item(sigma, x), self.sigma_data
        c_skip = sd**2 / (s**2 + sd**2)
        c_out = s * sd / (s**2 + sd**2).sqrt()
        c_in = 1.0 / (s**2 + sd**2).sqrt()
        return c_skip * x + c_out * network(c_in * x, sigma.log() / 4)

    def denoise(self, network: NetworkFn, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Asked at sigma = 0 (DDIM inversion starts from the clean end) the network is evaluated at
        # sigma_min, the smallest level it was trained to see; eps is then its estimate there.
        sigma = batch_times(t, x_t).to(x_t.dtype).clamp_min(self.sigma_min)
        x0 = self.denoised(network, x_t, sigma)
        return x0, (x_t - x0) / per_item(sigma, x_t)

    def loss(self, network: NetworkFn, x0: torch.Tensor) -> torch.Tensor:
        sigma = (self.p_mean + self.p_std * torch.randn(x0.shape[0], device=x0.device)).exp()
        noise = torch.randn_like(x0)
        x_t = x0 + per_item(sigma, x0) * noise
        weight = (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2
        error = (self.denoised(network, x_t, sigma) - x0).square().flatten(1).mean(dim=1)
        return (weight * error).mean()

    def prior(self, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """sigma_max-scaled noise: at that level the data is a negligible part of x."""
        return per_item(torch.as_tensor(t), noise) * noise

    def describe(self) -> str:
        return f"{self.name} (sigma_data {self.sigma_data}, sigma {self.sigma_min}..{self.sigma_max}, rho {self.rho})"
