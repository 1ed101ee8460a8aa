"""A network computes f(x, c_noise, cond) and nothing else.

What it predicts, how its inputs are scaled and what `c_noise` means are the process's
business (src/processes): every network plugs into every process."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class Network(nn.Module, ABC):
    """`forward(x, c_noise)`: x is a batch of model tensors, c_noise one noise-conditioning value
    per item, in the process's units (about 0..1; see each process)."""

    @abstractmethod
    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        """Output of the same shape as x."""

    @abstractmethod
    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise ValueError naming the setting when tensors of `shape` cannot go through the network."""
