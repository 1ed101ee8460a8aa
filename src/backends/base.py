"""A diffusion backend sees only tensors: it learns a loss on clean inputs and samples from noise.

Besides training and unconditional sampling, a backend exposes its noise schedule as a
variance-preserving process x_t = alpha(t) * x_0 + sigma(t) * eps and a prediction of
(x_0, eps) from x_t. The generation modes (variation, inpainting, continuation,
interpolation) are written once against these three methods."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class DiffusionBackend(nn.Module, ABC):
    @abstractmethod
    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Scalar training loss for a batch of clean model tensors."""

    @abstractmethod
    def sample(self, noise: torch.Tensor, steps: int, progress: bool = False, sampler: str | None = None,
               eta: float | None = None) -> torch.Tensor:
        """Denoise `noise` (unit Gaussian) into clean tensors in `steps` steps.

        `sampler` / `eta` choose among the backend's samplers; a backend with a single
        deterministic sampler rejects them with a ValueError."""

    @abstractmethod
    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise ValueError naming the setting when tensors of `shape` cannot go through the network."""

    # The three methods below serve the generation modes. They are not abstract so that a
    # backend can be trained and sampled before it supports the modes; the modes then say why.
    def noise_levels(self, steps: int) -> torch.Tensor:
        """`steps + 1` model times from pure noise to clean, for a deterministic (DDIM) sampler."""
        raise NotImplementedError(f"{type(self).__name__} does not expose its noise schedule")

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Signal and noise scales at model time `t` (alpha**2 + sigma**2 == 1)."""
        raise NotImplementedError(f"{type(self).__name__} does not expose its noise schedule")

    def predict(self, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_0, eps) predicted from the noisy batch `x_t` at scalar model time `t`."""
        raise NotImplementedError(f"{type(self).__name__} does not expose (x_0, eps) predictions")
