"""A network computes f(x, c_noise, cond) and nothing else.

What it predicts, how its inputs are scaled and what `c_noise` means are the process's
business (src/processes): every network plugs into every process."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
from torch import nn

# What processes and samplers call: f(x, c_noise). A Network is one; so is a Network with labels
# bound (src/networks/conditioning.py).
NetworkFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def local_power(x: torch.Tensor, window: int) -> torch.Tensor:
    """Each element's square averaged over `window` neighbours along the last axis (fewer at the
    edges), every other axis (channels, an image's rows) kept apart: a signal's local level."""
    flat = x.square().flatten(0, -2).unsqueeze(1)
    pooled = nn.functional.avg_pool1d(flat, window, stride=1, padding=window // 2, count_include_pad=False)
    return pooled.view_as(x)


# A level feature (UNetV0's level_features, the null label's classifier): log(power + floor) * scale. The floor,
# 40 dB under the data's unit level, sits 10 dB under the noise at t = 0.02 on the cosine path
# (sigma^2 = 1e-3), so the level tells a tail from the noise until sampling's last few steps; the
# scale brings the logs, -9.2 to about +2, near the unit range of the other inputs.
LEVEL_FEATURE_FLOOR, LEVEL_FEATURE_SCALE = 1e-4, 0.25


def log_level(power: torch.Tensor) -> torch.Tensor:
    """A power as a level feature: its log above the floor, scaled near the unit range."""
    return LEVEL_FEATURE_SCALE * (power + LEVEL_FEATURE_FLOOR).log()


class ClassEmbedding(nn.Embedding):
    """nn.Embedding that also takes mixing weights: a float (batch, classes) tensor gives the
    weighted sum of the class vectors (interpolating from one class to another). Its weights are
    an nn.Embedding's, so checkpoints and diffusers exports see a plain class embedding."""

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        if labels.is_floating_point():
            return labels.to(self.weight.dtype) @ self.weight
        return super().forward(labels)


class Network(nn.Module, ABC):
    """`forward(x, c_noise, labels)`: x is a batch of model tensors, c_noise one noise-conditioning
    value per item, in the process's units (about 0..1; see each process), and labels one class id
    per item for a network built with `num_classes` > 0, or one row of mixing weights over the
    `num_classes + 1` classes per item. Class id `num_classes` (or labels=None) is the null label:
    the unconditional model that classifier-free guidance trains alongside."""

    num_classes: int = 0
    # True: forward returns twice x's channels, the prediction then a log-power gate (src/processes/gate.py)
    gate: bool = False
    # True: training also fits a classifier of the noisy input to each item's true class (class_loss)
    reads_classes: bool = False

    @abstractmethod
    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Output of the same shape as x."""

    def class_loss(self, x: torch.Tensor, c_noise: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """A loss that trains the network's classifier of its noisy input x on the true `classes`
        (for a network that `reads_classes`)."""
        raise NotImplementedError(f"{type(self).__name__} has no classifier of its input (reads_classes is False)")

    def class_ids(self, labels: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor | None:
        """`labels` checked against the vocabulary size; None (or a network without classes) means
        the null label for every item."""
        if not self.num_classes:
            if labels is not None:
                raise ValueError("this network was built without classes (num_classes=0) but got labels")
            return None
        if labels is None:
            return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)
        if labels.is_floating_point():
            if labels.shape != (batch, self.num_classes + 1):
                raise ValueError(f"label mixing weights must be ({batch}, {self.num_classes + 1}), "
                                 f"got {tuple(labels.shape)}")
            return labels.to(device=device)
        if labels.shape != (batch,) or labels.min() < 0 or labels.max() > self.num_classes:
            raise ValueError(f"labels must be {batch} class ids in [0, {self.num_classes}] "
                             f"({self.num_classes} = none), got {labels.tolist()}")
        return labels.to(device=device, dtype=torch.long)

    @abstractmethod
    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise ValueError naming the setting when tensors of `shape` cannot go through the network."""
