"""A diffusion backend sees only tensors: it learns a loss on clean inputs and samples from noise."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class DiffusionBackend(nn.Module, ABC):
    @abstractmethod
    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Scalar training loss for a batch of clean model tensors."""

    @abstractmethod
    def sample(self, noise: torch.Tensor, steps: int, progress: bool = False) -> torch.Tensor:
        """Denoise `noise` (unit Gaussian) into clean tensors in `steps` steps."""

    @abstractmethod
    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise ValueError naming the setting when tensors of `shape` cannot go through the network."""
