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
    # True: `loss` also takes null_copies, the null label's copies (with_null_copies below)
    takes_null_copies: bool = False

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

    @staticmethod
    def with_null_copies(network: NetworkFn, x_t: torch.Tensor, c_noise: torch.Tensor,
                         copies: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(the batch's output, its null-label copies' output or None) from one call of `network`.

        With `copies` > 0 (model.null_copies) the first that many items (batches are shuffled) are
        denoised a second time, at the same noisy input, and `network` must label those copies,
        which follow the batch, with the null label (WithLabels.with_null_copies). The process fits
        them to the labelled prediction there, detached, not to the clean item: over the items a
        noisy input may have come from, the labelled predictions average to the unconditional one
        (each class as likely as it is given that input), so this is the null label's usual target
        with the spread of one clip's noise taken out. One call: a second, small one would cost
        the CPU nearly as much as the batch (benchmarks/null_copies_cost.py)."""
        if not copies:
            return network(x_t, c_noise), None
        batch = x_t.shape[0]
        output = network(torch.cat([x_t, x_t[:copies]]), torch.cat([c_noise, c_noise[:copies]]))
        return output[:batch], output[batch:]

    @staticmethod
    def with_copies_loss(loss: torch.Tensor, null_loss: torch.Tensor, batch: int, copies: int) -> torch.Tensor:
        """The batch's mean loss and its null-label copies' as one mean: each copy counts as one more item."""
        return (batch * loss + copies * null_loss) / (batch + copies)

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
