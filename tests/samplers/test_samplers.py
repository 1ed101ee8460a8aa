"""Samplers on an exact denoiser: for Gaussian data the probability-flow ODE has a closed-form
solution, so every deterministic sampler must converge to it, and the ancestral one must
reproduce the data distribution."""

from __future__ import annotations

import pytest
import torch

from src.samplers.base import Denoiser
from src.samplers.oracle import GaussianOracle as Oracle
from src.samplers.registry import SAMPLERS, check_sampler, make_sampler, sample
from tests.processes.helpers import PROCESSES, make_process

MEAN, STD = 0.3, 0.2  # the data: x0 ~ N(MEAN, STD^2) per element


def oracle(process) -> Oracle:
    return Oracle(process, None, MEAN, STD)


def error(process, sampler_name: str, steps: int, noise: torch.Tensor) -> float:
    exact = oracle(process)
    out = sample(exact, noise, steps, make_sampler(sampler_name, process))
    return float((out - exact.exact(noise, steps)).abs().max())


@pytest.mark.parametrize("name", ["v_cosine", "edm", "rectified_flow", "ddpm_eps"])
@pytest.mark.parametrize("sampler_name", ["ddim", "heun", "dpmpp_2m"])
def test_deterministic_samplers_converge_to_the_ode_solution(name, sampler_name):
    process = make_process(name)
    noise = torch.randn(4, 1, 64, generator=torch.Generator().manual_seed(0))
    errors = [error(process, sampler_name, steps, noise) for steps in (4, 16, 64, 256)]
    assert errors[0] > errors[1] > errors[2] > errors[3], errors
    # DDIM is first order (error ~ 1 / steps), Heun and DPM-Solver++(2M) second order.
    assert errors[3] < (0.02 if sampler_name == "ddim" else 0.004), errors


@pytest.mark.parametrize("name", ["v_cosine", "edm", "rectified_flow"])
def test_second_order_samplers_beat_ddim_at_equal_evaluations(name):
    process = make_process(name)
    noise = torch.randn(4, 1, 64, generator=torch.Generator().manual_seed(1))
    for evaluations in (17, 33):  # DPM-Solver++(2M): one evaluation per step, like DDIM
        assert error(process, "dpmpp_2m", evaluations, noise) < error(process, "ddim", evaluations, noise)
    assert error(process, "heun", 16, noise) < error(process, "ddim", 16, noise)  # per step; per evaluation it
    # only pays off from about 65 evaluations on this problem (measured: see benchmarks/README.md)


@pytest.mark.parametrize("name", ["v_cosine", "edm", "rectified_flow", "ddpm"])
def test_ancestral_sampler_reproduces_the_data_distribution(name):
    process = make_process(name)
    noise = torch.randn(64, 1, 256, generator=torch.Generator().manual_seed(2))
    coarse, out = (sample(oracle(process), noise, steps, make_sampler("ancestral", process))
                   for steps in (20, 200))
    # Ancestral sampling shrinks the spread at few steps; it approaches the data's as steps grow.
    assert abs(float(out.std()) - STD) < abs(float(coarse.std()) - STD)
    assert abs(float(out.mean()) - MEAN) < 0.01 and abs(float(out.std()) - STD) < 0.02
    again = sample(oracle(process), noise, 200, make_sampler("ancestral", process))
    assert torch.equal(out, again)  # step noise is seeded by each item's starting noise


def test_ddpm_sampler_serves_only_the_ddpm_process():
    process = make_process("ddpm")
    noise = torch.randn(64, 1, 256, generator=torch.Generator().manual_seed(3))
    out = sample(oracle(process), noise, 200, make_sampler("ddpm", process))
    assert abs(float(out.mean()) - MEAN) < 0.01 and abs(float(out.std()) - STD) < 0.02
    with pytest.raises(ValueError, match="sampler=ddpm cannot serve the edm process; it can use: ddim"):
        make_sampler("ddpm", make_process("edm"))


def test_sampler_errors_name_the_usable_ones():
    process = make_process("rectified_flow")
    with pytest.raises(ValueError, match="unknown sampler='lms'; the rectified_flow process can use: ddim, euler"):
        check_sampler("lms", process)
    with pytest.raises(ValueError, match="eta applies to sampler=ancestral"):
        make_sampler("heun", process, eta=0.5)
    with pytest.raises(ValueError, match="eta must be between 0"):
        make_sampler("ancestral", process, eta=2.0)
    assert make_sampler("ddim", process, eta=0.5).name == "ancestral"  # DDIM with eta > 0


def test_evaluations_count_network_calls():
    process = make_process("edm")
    for name in sorted(set(SAMPLERS) - {"ddpm"}):
        calls = []

        class Counting(Oracle):
            def predict(self, x, t):
                calls.append(1)
                return super().predict(x, t)

        sampler = make_sampler(name, process)
        sample(Counting(process, None), torch.randn(1, 1, 8), 6, sampler)
        assert len(calls) == sampler.evaluations(6), name


@pytest.mark.parametrize("name", ["v_cosine", "edm", "rectified_flow"])
def test_eps_scaling_divides_the_predicted_noise_by_one_plus_c_over_the_steps(name):
    process = make_process(name)
    network = lambda x, c_noise: 0.5 * x + 0.1  # noqa: E731 - any fixed function of the input serves
    plain = Denoiser(process, network)
    scaled = Denoiser(process, network, eps_scaling=0.2)
    levels = process.schedule(10)
    on_grid = scaled.on_grid(levels)
    assert plain.on_grid(levels) is plain and on_grid.eps_divisor == pytest.approx(1.02)
    x = torch.randn(2, 1, 16, generator=torch.Generator().manual_seed(3))
    t = levels[3]
    (x0, eps), (x0_s, eps_s) = plain.predict(x, t), on_grid.predict(x, t)
    assert torch.allclose(eps_s, eps / 1.02)
    alpha, sigma = plain.alpha_sigma(t, x)
    assert torch.allclose(alpha * x0_s + sigma * eps_s, x, atol=1e-5)  # still a split of the same input
    noise = torch.randn(2, 1, 16, generator=torch.Generator().manual_seed(4))
    ddim = make_sampler("ddim", process)
    assert not torch.allclose(sample(plain, noise, 10, ddim), sample(scaled, noise, 10, ddim))


def test_eps_scaling_keeps_the_prediction_at_pure_noise_and_refuses_negative_values():
    process = make_process("v_cosine")  # its first level, t = 1, has alpha = 0
    network = lambda x, c_noise: 0.5 * x  # noqa: E731
    levels = process.schedule(10)
    x = torch.randn(2, 1, 16, generator=torch.Generator().manual_seed(5))
    plain, scaled = (Denoiser(process, network, eps_scaling=c).on_grid(levels) for c in (0.0, 0.5))
    for a, b in zip(plain.predict(x, levels[0]), scaled.predict(x, levels[0])):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="eps_scaling"):
        Denoiser(process, network, eps_scaling=-0.1)
