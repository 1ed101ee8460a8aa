"""UNet2DBackend on a tiny UNet2DModel: losses, samplers, reproducibility, shapes, options."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import torch
import hydra
from diffusers import DDPMScheduler, UNet2DModel
from omegaconf import OmegaConf

from src.backends.unet2d import UNet2DBackend, noise_seeded_generators


def tiny_unet(sample_size: int = 16) -> UNet2DModel:
    torch.manual_seed(0)
    return UNet2DModel(
        sample_size=sample_size, in_channels=1, out_channels=1, layers_per_block=1,
        block_out_channels=(8, 16), norm_num_groups=4, attention_head_dim=4,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
    )


def tiny_backend(prediction_type: str = "epsilon", **options) -> UNet2DBackend:
    scheduler = DDPMScheduler(num_train_timesteps=100, prediction_type=prediction_type)
    return UNet2DBackend(tiny_unet(), scheduler, **options)


def noise(batch: int = 2, width: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 1, 16, width, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_loss_is_finite_and_backpropagates(prediction_type):
    backend = tiny_backend(prediction_type)
    loss = backend.loss(torch.rand(2, 1, 16, 16) * 2 - 1)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in backend.unet.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_v_prediction_targets_the_velocity(monkeypatch):
    """With the UNet replaced by one that outputs the velocity, the v loss is zero."""
    backend = tiny_backend("v_prediction")
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    torch.manual_seed(3)
    eps = torch.randn_like(x)
    t = torch.randint(0, 100, (2,))
    velocity = backend.scheduler.get_velocity(x, eps, t)
    monkeypatch.setattr(backend.unet, "forward", lambda *_: SimpleNamespace(sample=velocity))
    torch.manual_seed(3)
    assert backend.loss(x).item() == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("sampler,eta", [("ddpm", 0.0), ("ddim", 0.0), ("ddim", 0.7)])
def test_sampling_shapes_including_wider_widths(sampler, eta):
    backend = tiny_backend(sampler=sampler, eta=eta).eval()
    for width in (16, 32):
        out = backend.sample(noise(width=width), steps=3)
        assert out.shape == (2, 1, 16, width) and torch.isfinite(out).all()


@pytest.mark.parametrize("sampler,eta", [("ddpm", 0.0), ("ddim", 0.5)])
def test_same_noise_gives_same_output_whatever_the_batch(sampler, eta):
    backend = tiny_backend(sampler=sampler, eta=eta).eval()
    batch = noise(3)
    first = backend.sample(batch, steps=3)
    torch.manual_seed(999)  # the global RNG must not matter
    again = backend.sample(batch, steps=3)
    assert torch.equal(first, again)
    alone = backend.sample(batch[1:2], steps=3)  # batch size must not matter either
    assert torch.allclose(alone[0], first[1], atol=1e-5)
    other = backend.sample(noise(3, seed=1), steps=3)
    assert not torch.allclose(first, other)


def test_stochastic_samplers_draw_step_noise_but_ddim_eta0_does_not():
    backend = tiny_backend().eval()
    batch = noise(1)
    ddim = backend.sample(batch, steps=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ddim, backend.sample(batch, steps=3, generator=torch.Generator().manual_seed(1)))
    ddpm = [backend.sample(batch, steps=3, sampler="ddpm", generator=torch.Generator().manual_seed(s)) for s in (0, 1)]
    assert not torch.equal(*ddpm)
    assert not torch.equal(ddpm[0], ddim)


def test_noise_seeded_generators_follow_each_item():
    batch = noise(2)
    first = [g.initial_seed() for g in noise_seeded_generators(batch)]
    assert first[0] != first[1]
    assert [g.initial_seed() for g in noise_seeded_generators(batch.clone())] == first


def test_sampler_and_eta_are_validated():
    with pytest.raises(ValueError, match="sampler must be one of"):
        tiny_backend(sampler="euler")
    with pytest.raises(ValueError, match="eta"):
        tiny_backend(sampler="ddpm", eta=0.5)
    with pytest.raises(ValueError, match="eta must be >= 0"):
        tiny_backend(eta=-1.0)
    backend = tiny_backend(sampler="ddim", eta=0.5).eval()
    backend.sample(noise(1), steps=2, sampler="ddpm")  # the configured DDIM eta is not forced onto DDPM
    with pytest.raises(ValueError, match="only applies to sampler=ddim"):
        backend.sample(noise(1), steps=2, sampler="ddpm", eta=0.3)
    with pytest.raises(ValueError, match="steps"):
        backend.sample(noise(1), steps=0)
    with pytest.raises(ValueError, match="prediction_type"):
        UNet2DBackend(tiny_unet(), DDPMScheduler(prediction_type="flow"))


def test_check_shape_names_the_setting():
    backend = tiny_backend()
    backend.check_shape((1, 16, 48))
    with pytest.raises(ValueError, match="width 17 is not a multiple of the UNet's total downsampling 2"):
        backend.check_shape((1, 16, 17))
    with pytest.raises(ValueError, match="height 15"):
        backend.check_shape((1, 15, 16))
    with pytest.raises(ValueError, match="in_channels=1"):
        backend.check_shape((2, 16, 16))
    with pytest.raises(ValueError, match="not a multiple"):
        backend.sample(noise(width=17), steps=2)


def test_pretrained_pipeline_folder_replaces_the_unet_and_scheduler(tmp_path, caplog):
    source = tiny_backend("v_prediction")
    source.unet.save_pretrained(tmp_path / "pipe" / "unet")
    source.scheduler.save_pretrained(tmp_path / "pipe" / "scheduler")
    other = UNet2DModel(sample_size=8, in_channels=1, out_channels=1, block_out_channels=(4, 4, 4),
                        norm_num_groups=2, attention_head_dim=2, down_block_types=("DownBlock2D",) * 3, up_block_types=("UpBlock2D",) * 3)
    with caplog.at_level(logging.INFO, logger="src.backends.unet2d"):
        backend = UNet2DBackend(other, DDPMScheduler(num_train_timesteps=1000), pretrained=str(tmp_path / "pipe"))
    assert "architecture comes from" in caplog.text
    assert tuple(backend.unet.config.block_out_channels) == (8, 16)
    assert backend.scheduler.config.num_train_timesteps == 100 and backend.prediction_type == "v_prediction"
    for name, tensor in source.unet.state_dict().items():
        assert torch.equal(tensor, backend.unet.state_dict()[name]), name


def test_pretrained_unet_folder_keeps_the_configured_scheduler(tmp_path):
    tiny_unet().save_pretrained(tmp_path / "unet_only")
    backend = UNet2DBackend(None, DDPMScheduler(num_train_timesteps=50), pretrained=str(tmp_path / "unet_only"))
    assert backend.scheduler.config.num_train_timesteps == 50
    assert torch.equal(backend.unet.conv_in.weight, tiny_unet().conv_in.weight)


def test_pretrained_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        UNet2DBackend(None, DDPMScheduler(), pretrained=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="config.json found"):
        UNet2DBackend(None, DDPMScheduler(), pretrained=str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="UNet2DModel"):
        UNet2DBackend(None, DDPMScheduler())


def conv_weight(backend: UNet2DBackend) -> torch.Tensor:
    return backend.unet.down_blocks[0].resnets[0].conv1.weight  # 8 -> 8 channels: layouts differ


def test_gradient_checkpointing_and_channels_last_take_effect():
    plain = tiny_backend()
    assert not plain.unet.is_gradient_checkpointing
    assert not conv_weight(plain).is_contiguous(memory_format=torch.channels_last)
    backend = tiny_backend(gradient_checkpointing=True, channels_last=True)
    assert backend.unet.is_gradient_checkpointing
    assert conv_weight(backend).is_contiguous(memory_format=torch.channels_last)
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    torch.manual_seed(0)
    loss = backend.loss(x)
    loss.backward()
    torch.manual_seed(0)
    assert torch.allclose(loss, plain.loss(x), atol=1e-5)  # same weights, same noise: same loss
    assert backend.sample(noise(1), steps=2).shape == (1, 1, 16, 16)


def test_hydra_lists_become_plain_json_config(tmp_path):
    """Hydra hands lists over as ListConfig; the saved configs must still be plain JSON."""
    cfg = OmegaConf.create({
        "_target_": "src.backends.unet2d.UNet2DBackend",
        "unet": {"_target_": "diffusers.UNet2DModel", "sample_size": [16, 16], "in_channels": 1, "out_channels": 1,
                 "block_out_channels": [8, 16], "norm_num_groups": 4, "attention_head_dim": 4,
                 "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
                 "up_block_types": ["AttnUpBlock2D", "UpBlock2D"]},
        "scheduler": {"_target_": "diffusers.DDPMScheduler", "num_train_timesteps": 3,
                      "trained_betas": [0.1, 0.2, 0.3]},
    })
    backend = hydra.utils.instantiate(cfg)
    assert type(backend.unet.config.block_out_channels) is list
    backend.unet.save_pretrained(tmp_path / "unet")
    backend.scheduler.save_pretrained(tmp_path / "scheduler")
    assert UNet2DModel.load_config(str(tmp_path / "unet"))["sample_size"] == [16, 16]
    assert DDPMScheduler.load_config(str(tmp_path / "scheduler"))["trained_betas"] == [0.1, 0.2, 0.3]


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_generation_modes_ddim_path_matches_the_ddim_sampler(prediction_type):
    """The VP view (noise_levels / alpha_sigma / predict) walked by the modes' DDIM loop
    reproduces diffusers' DDIMScheduler with eta=0, clipping included."""
    backend = tiny_backend(prediction_type).eval()
    levels = backend.noise_levels(4)
    assert len(levels) == 5 and levels[-1] == UNet2DBackend.CLEAN and levels[0] > levels[1]
    alpha, sigma = backend.alpha_sigma(levels)
    assert torch.allclose(alpha**2 + sigma**2, torch.ones(5)) and (alpha[-1], sigma[-1]) == (1.0, 0.0)
    start = noise(2)
    x = start
    with torch.no_grad():
        for t, t_next in zip(levels[:-1], levels[1:]):
            x0, eps = backend.predict(x, t)
            a, s = backend.alpha_sigma(t_next)
            x = a * x0 + s * eps
    assert torch.allclose(x, backend.sample(start, steps=4, sampler="ddim", eta=0.0), atol=1e-5)


def test_predict_inverts_the_forward_process(monkeypatch):
    backend = tiny_backend("v_prediction")
    x0 = torch.rand(2, 1, 16, 16) * 1.6 - 0.8  # inside the clip range
    eps = torch.randn_like(x0)
    t = torch.tensor(40.0)
    alpha, sigma = backend.alpha_sigma(t)
    velocity = alpha * eps - sigma * x0
    monkeypatch.setattr(backend.unet, "forward", lambda *_: SimpleNamespace(sample=velocity))
    got_x0, got_eps = backend.predict(alpha * x0 + sigma * eps, t)
    assert torch.allclose(got_x0, x0, atol=1e-5) and torch.allclose(got_eps, eps, atol=1e-5)
