"""The gate's level loss: the clean tensor's local level in nats, the error against it, its place in
v_cosine's loss, and why it exists (a shut gate gets almost no gradient from the v error)."""

from __future__ import annotations

import math

import pytest
import torch

from src.processes.gate import LEVEL_FLOOR, LEVEL_WINDOW, gated_v, level_error, local_log_power
from src.processes.v_cosine import VCosineProcess
from tests.processes.test_processes import OracleNetwork


def gated_output(residual: torch.Tensor, log_power: torch.Tensor) -> torch.Tensor:
    return torch.cat([residual, log_power], dim=1)


def test_the_local_level_is_the_averaged_power_in_nats_down_to_the_floor():
    x0 = torch.zeros(1, 2, 40)
    x0[0, 0] = 2.0  # a steady level: log 4 everywhere
    x0[0, 1, :10] = torch.tensor([1.0, -1.0] * 5)  # loud, then silent
    level = local_log_power(x0)
    assert torch.allclose(level[0, 0], torch.full((40,), math.log(4.0)))
    assert torch.allclose(level[0, 1, :10 - LEVEL_WINDOW // 2], torch.zeros(10 - LEVEL_WINDOW // 2), atol=1e-6)
    assert (level[0, 1, 10 + LEVEL_WINDOW // 2:] == LEVEL_FLOOR).all()  # silence sits at the floor
    edge = level[0, 1, 10]  # the window straddles the end of the loud part: a level between the two
    assert LEVEL_FLOOR < edge < 0.0


def test_the_error_is_zero_at_the_clean_level_and_counts_only_open_gates_in_silence():
    x0 = torch.zeros(2, 3, 32)
    x0[:, 1:, :16] = torch.randn(2, 2, 16)
    target = local_log_power(x0)
    residual = torch.zeros_like(x0)
    assert level_error(gated_output(residual, target), x0) == 0.0
    silent = target == LEVEL_FLOOR
    shut = torch.where(silent, torch.full_like(target, LEVEL_FLOOR - 5.0), target)  # under the floor: no cost
    assert level_error(gated_output(residual, shut), x0) == 0.0
    opened = torch.where(silent, torch.full_like(target, LEVEL_FLOOR + 2.0), target)  # 2 nats too open
    assert level_error(gated_output(residual, opened), x0) == pytest.approx(4.0 * silent.float().mean().item())
    # skipped channels (here the all-silent first one) count for nothing
    first_only_wrong = target.clone()
    first_only_wrong[:, 0] = 3.0
    assert level_error(gated_output(residual, first_only_wrong), x0, skip=1) == 0.0
    assert level_error(gated_output(residual, first_only_wrong), x0) > 0.0


def test_the_process_adds_the_weighted_level_error_to_the_v_error():
    x0 = torch.randn(4, 2, 32)
    output = torch.randn(4, 4, 32)
    losses = {}
    for weight in (0.0, 0.5):
        torch.manual_seed(3)  # the same times and noise for both
        losses[weight] = VCosineProcess(gate=True, gate_level_weight=weight, gate_level_skip=1).loss(OracleNetwork(output), x0)
    expected = 0.5 * level_error(output, x0, skip=1)
    assert torch.allclose(losses[0.5] - losses[0.0], expected, atol=1e-5)


def test_a_shut_gate_gets_almost_no_gradient_from_the_v_error_but_a_full_one_from_the_level():
    """Why the level loss exists: a tail the gate has shut (p far under sigma^2) moves the v error
    by a gain that scales with p / sigma^2, so the v error cannot open the gate for a louder tail."""
    torch.manual_seed(0)
    x0 = 0.3 * torch.randn(1, 1, 64)  # a tail at about -10 dB
    noise = torch.randn_like(x0)
    alpha, sigma = torch.tensor(math.cos(0.05 * math.pi / 2)), torch.tensor(math.sin(0.05 * math.pi / 2))
    x_t = alpha * x0 + sigma * noise
    log_power = torch.full_like(x0, -12.0, requires_grad=True)  # the gate shut, 7 nats under the noise
    output = gated_output(torch.zeros_like(x0), log_power)
    v_error = (gated_v(output, x_t, alpha, sigma) - (alpha * noise - sigma * x0)).pow(2).mean()
    (v_grad,) = torch.autograd.grad(v_error, log_power)
    (level_grad,) = torch.autograd.grad(level_error(gated_output(torch.zeros_like(x0), log_power), x0), log_power)
    assert v_grad.abs().sum() < 1e-2 * level_grad.abs().sum()
    assert (level_grad < 0).all()  # the level loss opens it


def test_the_level_loss_needs_a_gate_and_valid_settings():
    with pytest.raises(ValueError, match="gate_level_weight"):
        VCosineProcess(gate_level_weight=0.1)
    with pytest.raises(ValueError, match="gate_level_weight"):
        VCosineProcess(gate=True, gate_level_weight=-1.0)
    with pytest.raises(ValueError, match="gate_level_skip"):
        VCosineProcess(gate=True, gate_level_weight=0.1, gate_level_skip=-1)
    with pytest.raises(ValueError, match="gate_level_power_channels"):
        VCosineProcess(gate=True, gate_level_weight=0.1, gate_level_power_channels=-2)
    with pytest.raises(ValueError, match="gate_level_power_channels.*level loss"):
        VCosineProcess(gate=True, gate_level_power_channels=2)  # no level loss to fit them with


def fitted_level(power_channels: int, x0: torch.Tensor) -> float:
    """The one log level a gate fits, by gradient descent, to clips of different levels: what it
    sets where its input cannot tell them apart (near t = 1 without a label)."""
    log_power = torch.zeros(1, 1, 1, requires_grad=True)
    optimizer = torch.optim.Adam([log_power], lr=0.05)
    for _ in range(2000):
        optimizer.zero_grad()
        output = gated_output(torch.zeros_like(x0), log_power.expand_as(x0))
        level_error(output, x0, power_channels=power_channels).backward()
        optimizer.step()
    return log_power.item()


def test_an_uncertain_level_is_fitted_by_its_mean_log_or_its_mean_power():
    """A loud clip (log level 6) and a nearly silent one (-8): the squared log sets the mean log
    (-1), which shuts the loud one out of the Wiener skip; Itakura-Saito sets the mean power."""
    x0 = torch.cat([torch.full((1, 1, 32), math.exp(3.0)), torch.full((1, 1, 32), math.exp(-4.0))])
    mean_power = math.log((math.exp(6.0) + math.exp(-8.0)) / 2)
    assert fitted_level(0, x0) == pytest.approx(-1.0, abs=0.05)
    assert fitted_level(1, x0) == pytest.approx(mean_power, abs=0.05)


def test_power_channels_are_the_squared_log_near_the_target_and_keep_the_floor_rule():
    x0 = torch.zeros(2, 3, 32)
    x0[:, 1:, :16] = torch.randn(2, 2, 16)
    target = local_log_power(x0)
    residual = torch.zeros_like(x0)
    assert level_error(gated_output(residual, target), x0, power_channels=3) == 0.0
    near = target + 0.01 * torch.randn_like(target)
    near = torch.where(target == LEVEL_FLOOR, target, near)
    assert level_error(gated_output(residual, near), x0, power_channels=3).item() == pytest.approx(
        level_error(gated_output(residual, near), x0).item(), rel=0.05)
    shut = torch.where(target == LEVEL_FLOOR, torch.full_like(target, LEVEL_FLOOR - 5.0), target)
    assert level_error(gated_output(residual, shut), x0, power_channels=3) == 0.0
    # only the leading power channels change: on the others it is the squared log wherever it is
    wrong = target + 1.5
    assert level_error(gated_output(residual, wrong), x0, power_channels=1) == pytest.approx(
        level_error(gated_output(residual, wrong), x0, power_channels=0).item() * 2 / 3
        + level_error(gated_output(residual[:, :1], wrong[:, :1]), x0[:, :1], power_channels=1).item() / 3, rel=1e-5)
    # far too shut (20 nats): a gradient capped at the linear part's slope, not e^20
    log_power = (target - 20.0).requires_grad_()
    level_error(gated_output(residual, log_power), x0, power_channels=3).backward()
    assert torch.isfinite(log_power.grad).all() and log_power.grad.abs().max() * log_power.numel() < 2 * math.exp(4.0) + 1
