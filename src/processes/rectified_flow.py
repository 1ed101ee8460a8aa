"""Rectified flow (Liu et al. 2022) with SD3's training times (Esser et al. 2024).

x_t = (1 - t) x_0 + t eps on a straight line; the network predicts the velocity
v = eps - x_0 from x_t and c_noise = t. Training times are logit-normal (more weight in
the middle of the path, where the velocity is hardest to predict); the loss is the plain
MSE on v. Sampling follows the same straight line: Euler here is exactly DDIM."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from src.networks.base import NetworkFn
from src.processes.base import Process, batch_times, per_item


class RectifiedFlowProcess(Process):
    """Args:
        logit_mean: mean of the logit-normal training times (0: centred on t = 0.5).
        logit_std: its spread (1 as in SD3).
        shift: sampling schedule shift t -> shift t / (1 + (shift - 1) t); above 1 spends more
            steps at high noise (SD3 uses 3 for large images); 1 is a uniform grid.
    """

    name = "rectified_flow"
    default_sampler = "dpmpp_2m"  # best per network evaluation on the exact-denoiser benchmark (benchmarks/README.md)
    takes_null_copies = True

    def __init__(self, logit_mean: float = 0.0, logit_std: float = 1.0, shift: float = 1.0) -> None:
        super().__init__()
        if logit_std <= 0:
            raise ValueError(f"logit_std must be positive, got {logit_std}")
        self.logit_mean = logit_mean
        self.logit_std = logit_std
        self.shift = shift

    @property
    def shift(self) -> float:
        return self._shift

    @shift.setter
    def shift(self, shift: float) -> None:
        # A setter, so a loaded model sampled on another grid (benchmarks) is checked as config is.
        if shift <= 0:
            raise ValueError(f"shift must be positive (1: an even grid), got {shift}")
        self._shift = shift

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t)
        return 1.0 - t, t

    def schedule(self, steps: int) -> torch.Tensor:
        self.check_steps(steps)
        t = torch.linspace(1.0, 0.0, steps + 1)
        return self.shift * t / (1.0 + (self.shift - 1.0) * t)

    def denoise(self, network: NetworkFn, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = batch_times(t, x_t).to(x_t.dtype)
        v = network(x_t, t)
        t = per_item(t, x_t)
        return x_t - t * v, x_t + (1.0 - t) * v

    def loss(self, network: NetworkFn, x0: torch.Tensor, null_copies: int = 0) -> torch.Tensor:
        """The batch's loss; with `null_copies` (at most the batch) also that of the null label's
        copies of the first items (Process.with_null_copies), each counted as one more item."""
        t = torch.sigmoid(self.logit_mean + self.logit_std * torch.randn(x0.shape[0], device=x0.device))
        noise = torch.randn_like(x0)
        x_t = (1.0 - per_item(t, x0)) * x0 + per_item(t, x0) * noise
        output, student = self.with_null_copies(network, x_t, t, null_copies)
        loss = F.mse_loss(output, noise - x0)
        if student is None:
            return loss
        k = student.shape[0]
        null_loss = F.mse_loss(student, output[:k].detach())
        return self.with_copies_loss(loss, null_loss, x0.shape[0], k)

    def describe(self) -> str:
        return f"{self.name} (logit-normal {self.logit_mean}, {self.logit_std}; shift {self.shift})"
