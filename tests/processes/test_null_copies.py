"""Null-label copies (model.null_copies): the first items of a batch are denoised again under the
null label at the same noisy input, in the same call, and fitted to the labelled prediction there,
detached."""

from __future__ import annotations

import pytest
import torch

from src.processes.rectified_flow import RectifiedFlowProcess
from src.processes.v_cosine import VCosineProcess


class Deterministic(torch.nn.Module):
    """A network of (x, c_noise) alone, scaled by one weight: two copies with equal weights agree
    wherever they see the same input; gated, it adds a log power read from x."""

    def __init__(self, weight: float, gate: bool = False) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor(weight))
        self.gate = gate

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        output = self.weight * x * c_noise.view(-1, 1, 1)
        return torch.cat([output, (x.square() + 0.1).log()], dim=1) if self.gate else output


class Copied(torch.nn.Module):
    """`labelled` for the batch and `null` for the copies that follow it, as WithLabels.with_null_copies
    labels them."""

    def __init__(self, labelled: Deterministic, null: Deterministic, batch: int) -> None:
        super().__init__()
        self.labelled, self.null, self.batch = labelled, null, batch
        self.calls = 0

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        first, rest = slice(0, self.batch), slice(self.batch, None)
        return torch.cat([self.labelled(x[first], c_noise[first]), self.null(x[rest], c_noise[rest])])


PROCESSES = {
    "v_cosine": lambda: VCosineProcess(),
    "v_cosine_gated": lambda: VCosineProcess(gate=True, gate_level_weight=0.5, gate_level_power_channels=1),
    "rectified_flow": lambda: RectifiedFlowProcess(),
}


def losses(name: str, null_weight: float, copies: int = 3) -> tuple[torch.Tensor, torch.Tensor, Deterministic]:
    """(the loss with copies, the plain loss, the labelled network), from the same times and noise."""
    process = PROCESSES[name]()
    gate = name.endswith("gated")
    x0 = torch.randn(8, 2, 16, generator=torch.Generator().manual_seed(0))
    labelled, null = Deterministic(0.7, gate), Deterministic(null_weight, gate)
    network = Copied(labelled, null, batch=8)
    torch.manual_seed(5)
    with_copies = process.loss(network, x0, copies)
    assert network.calls == 1  # the copies ride in the batch's own call
    torch.manual_seed(5)
    plain = process.loss(labelled, x0)
    return with_copies, plain, labelled


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_copies_that_agree_with_the_labelled_prediction_cost_nothing(name):
    # The same network under the null label sees the same noisy input at the same time: no error.
    with_copies, plain, _ = losses(name, null_weight=0.7)
    assert torch.allclose(with_copies, plain * 8 / 11, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_copies_that_disagree_add_their_error_and_never_move_the_labelled_prediction(name):
    with_copies, plain, labelled = losses(name, null_weight=-0.4)
    assert with_copies > plain * 8 / 11 * (1 + 1e-4)
    with_copies.backward()
    copies_grad = labelled.weight.grad.clone()
    labelled.weight.grad = None
    (plain * 8 / 11).backward()
    # the labelled prediction is the copies' target, detached: only the batch's own loss moves it
    assert torch.allclose(copies_grad, labelled.weight.grad, rtol=1e-5)


def test_without_copies_the_loss_is_the_plain_one():
    x0 = torch.randn(4, 1, 16)
    torch.manual_seed(1)
    first = VCosineProcess().loss(Deterministic(0.7), x0, 0)
    torch.manual_seed(1)
    assert torch.equal(first, VCosineProcess().loss(Deterministic(0.7), x0))


def test_copies_are_the_first_items_and_at_most_the_batch():
    seen = []

    def network(x, c_noise):
        seen.append(x.clone())
        return torch.zeros_like(x)

    x_t, c_noise = torch.randn(3, 1, 4), torch.rand(3)
    output, copies = VCosineProcess.with_null_copies(network, x_t, c_noise, 2)
    assert output.shape[0] == 3 and copies.shape[0] == 2
    assert torch.equal(seen[-1], torch.cat([x_t, x_t[:2]]))
    _, copies = VCosineProcess.with_null_copies(network, x_t, c_noise, 5)
    assert copies.shape[0] == 3
