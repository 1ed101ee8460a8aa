"""A process defines noising, the training target and distribution, loss weighting and
preconditioning. Samplers and generation modes see only this interface.

Every process here is a Gaussian path x_t = alpha(t) * x_0 + sigma(t) * eps whose
noise-to-signal ratio sigma / alpha grows with t. Model time t is the process's own
variable (a fraction of the path, a training timestep or a noise level sigma): samplers
never interpret it, they only ask for the `schedule`, `alpha_sigma` and `denoise`."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from src.networks.base import NetworkFn

# Samplers that only need the Gaussian path: every process serves them.
PATH_SAMPLERS = ("ddim", "euler", "heun", "dpmpp_2m", "ancestral")


def per_item(value: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A scalar or (batch,) tensor shaped to broadcast against x (batch, ...)."""
    value = torch.as_tensor(value, device=x.device)
    if value.dim() == 0:
        return value.to(x.dtype)
    return value.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))


def batch_times(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Model time(s) as one value per item of x."""
    return torch.as_tensor(t, device=x.device).expand(x.shape[0])


class Process(nn.Module, ABC):
    """Subclasses set `name` and `default_sampler` and may narrow `samplers`."""

    name: str = ""
    default_sampler: str = "ddim"
    samplers: tuple[str, ...] = PATH_SAMPLERS
    # True: the process reads a gated network's log-power channels (src/processes/gate.py)
    gate: bool = False

    @abstractmethod
    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Signal and noise scales at model time t (same shape as t)."""

    @abstractmethod
    def schedule(self, steps: int) -> torch.Tensor:
        """`steps + 1` model times for sampling, from the noisiest to the clean end."""

    @abstractmethod
    def denoise(self, network: NetworkFn, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_0, eps) predicted from x_t at model time t (a scalar or one per item)."""

    @abstractmethod
    def loss(self, network: NetworkFn, x0: torch.Tensor) -> torch.Tensor:
        """Scalar training loss for a batch of clean tensors: draws times and noise itself."""

    def check_steps(self, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")

    def prior(self, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The starting point at the noisiest level t for unit Gaussian `noise`.

        Unit noise itself on variance-preserving and flow paths (diffusers' init_noise_sigma = 1:
        the little signal a DDPM schedule leaves at its last step is not known there)."""
        return noise

    def describe(self) -> str:
        return self.name
