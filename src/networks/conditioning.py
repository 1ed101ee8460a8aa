"""Class conditioning seen by processes and samplers as a plain `f(x, c_noise)`.

Processes and samplers call `network(x, c_noise)` and know nothing of labels. These wrappers bind
labels (and classifier-free guidance) to a network, so that every process, sampler and generation
mode works conditionally without a change. Guidance on the network's output equals guidance on the
denoised estimate, because every process's denoiser is affine in that output (c_skip x + c_out f).
A gated network's log-power half (src/processes/gate.py) is guided alike, in log power: the guided
level is the label's, pushed away from the unconditional one, which is not affine in the denoised
estimate but keeps the level positive."""

from __future__ import annotations

import torch

from src.networks.base import Network


class WithLabels:
    """`network` with one class id per item bound (None: the null label).

    With `classes` (every item's true class, before any was dropped to the null label), each call
    also scores the network's classifier of its noisy input on them (`Network.class_loss`, for a
    network that `reads_classes`) and keeps it in `classifier_loss` for the training step to add; items
    past the first len(classes) (null-label copies) are left out."""

    def __init__(self, network: Network, labels: torch.Tensor | None, classes: torch.Tensor | None = None) -> None:
        self.network = network
        self.labels = labels
        self.classes = classes
        self.classifier_loss: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        if self.classes is not None:
            n = len(self.classes)
            self.classifier_loss = self.network.class_loss(x[:n], c_noise[:n] if c_noise.dim() else c_noise, self.classes)
        return self.network(x, c_noise, self.labels)

    def with_null_copies(self, copies: int) -> WithLabels:
        """The same network for the batch followed by copies of its first `copies` items (at most the
        batch) under the null label: what a process's loss with null_copies calls."""
        if self.labels is None:
            raise ValueError("null-label copies need a labelled batch")
        copied = null_labels_like(self.labels[:copies], self.network.num_classes)
        return WithLabels(self.network, torch.cat([self.labels, copied]), self.classes)


class Guided:
    """Classifier-free guidance: f_null + scale * (f_label - f_null), both from one batched call.
    scale 1 is the conditional model alone, 0 the unconditional one. `labels` are class ids, or
    mixing weights over the classes (see Network)."""

    def __init__(self, network: Network, labels: torch.Tensor, scale: float) -> None:
        if scale < 0:
            raise ValueError(f"cfg_scale must be at least 0, got {scale}")
        self.network = network
        self.labels = labels
        self.scale = scale

    def __call__(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0:
            return self.network(x, c_noise, self.labels)
        if self.scale == 0.0:
            return self.network(x, c_noise, None)
        null = null_labels_like(self.labels, self.network.num_classes)
        both = self.network(torch.cat([x, x]), torch.cat([c_noise, c_noise]), torch.cat([self.labels, null]))
        labelled, unconditional = both.chunk(2)
        return unconditional + self.scale * (labelled - unconditional)


def one_label(label: int | None, batch: int, device: torch.device | str | None = None) -> torch.Tensor | None:
    """Class id `label` for each of `batch` items, or None (the null label) for label None."""
    return None if label is None else torch.full((batch,), label, dtype=torch.long, device=device)


def null_labels_like(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The null label in the form of `labels`: class id `num_classes`, or its one-hot weights."""
    if labels.is_floating_point():
        null = torch.zeros_like(labels)
        null[:, num_classes] = 1.0
        return null
    return torch.full_like(labels, num_classes)


def mix_labels(first: int, second: int, weight: float, num_classes: int) -> torch.Tensor:
    """(1, num_classes + 1) weights: `1 - weight` of class `first` and `weight` of `second`."""
    mixed = torch.zeros(1, num_classes + 1)
    mixed[0, first] += 1.0 - weight
    mixed[0, second] += weight
    return mixed


def drop_labels(labels: torch.Tensor, probability: float, num_classes: int) -> torch.Tensor:
    """Each label replaced by the null class with `probability`: one model learns every class and
    the unconditional case, which guidance needs. Drawn from the global RNG, so a resumed run
    drops the same labels."""
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"model.cfg_dropout must be in [0, 1], got {probability}")
    dropped = torch.rand(labels.shape, device=labels.device) < probability
    return torch.where(dropped, torch.full_like(labels, num_classes), labels)
