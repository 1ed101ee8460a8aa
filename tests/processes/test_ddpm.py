"""The ddpm process against diffusers: its DDIM path is DDIMScheduler's, its targets are diffusers'."""

from __future__ import annotations

import pytest
import torch
from diffusers import DDIMScheduler

from src.networks.unet2d import UNet2DNetwork
from src.processes.ddpm import CLEAN, DDPMProcess
from src.samplers.base import Denoiser
from src.samplers.registry import make_sampler, sample
from tests.networks.test_unet2d import tiny_unet


def noise(batch: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 1, 16, 16, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_ddim_sampler_is_diffusers_ddim(prediction_type):
    """Same network, same noise: our DDIM over the process reproduces DDIMScheduler (eta 0,
    clipping included), for every prediction type."""
    process = DDPMProcess(num_train_timesteps=100, prediction_type=prediction_type, clip_sample=True)
    network = UNet2DNetwork(tiny_unet()).eval()
    start = noise()
    with torch.no_grad():
        ours = sample(Denoiser(process, network), start, 4, make_sampler("ddim", process))
        scheduler = DDIMScheduler.from_config(process.scheduler.config)
        scheduler.set_timesteps(4)
        x = start
        for t in scheduler.timesteps:
            x = scheduler.step(network.unet(x, t).sample, t, x, eta=0.0).prev_sample
    assert torch.allclose(ours, x, atol=1e-5)


def test_schedule_ends_clean():
    process = DDPMProcess(num_train_timesteps=100)
    levels = process.schedule(4)
    assert levels.tolist() == [75.0, 50.0, 25.0, 0.0, CLEAN]
    alpha, sigma = process.alpha_sigma(levels)
    assert torch.allclose(alpha**2 + sigma**2, torch.ones(5)) and (alpha[-1], sigma[-1]) == (1.0, 0.0)


def test_v_target_is_diffusers_velocity(monkeypatch):
    process = DDPMProcess(num_train_timesteps=100, prediction_type="v_prediction")
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    torch.manual_seed(0)
    eps = torch.randn_like(x)
    t = torch.randint(0, 100, (2,))
    velocity = process.scheduler.get_velocity(x, eps, t)
    torch.manual_seed(0)
    assert process.loss(lambda x_t, c: velocity, x).item() == pytest.approx(0.0, abs=1e-10)


def test_prediction_type_is_validated():
    with pytest.raises(ValueError, match="prediction_type must be one of"):
        DDPMProcess(prediction_type="flow")
