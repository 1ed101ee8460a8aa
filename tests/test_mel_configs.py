"""The mel experiments compose into consistent models: audio length, UNet, LR schedule."""

from __future__ import annotations

import hydra
import pytest
from diffusers import UNet2DModel

from src.networks.unet2d import UNet2DNetwork
from src.processes.ddpm import DDPMProcess
from src.processes.rectified_flow import RectifiedFlowProcess
from src.representations.mel import MelRepresentation
from tests.conftest import compose_config

MEL_EXPERIMENTS = ["mel_diffusion", "mel_diffusion_64", "mel_diffusion_demo"]


def compose(exp: str, *overrides: str):
    return compose_config([f"exp={exp}", *overrides])


@pytest.mark.parametrize("exp", MEL_EXPERIMENTS)
def test_audio_length_gives_exactly_x_res_frames(exp):
    cfg = compose(exp)
    rep = cfg.model.representation
    assert cfg.audio.channels == 1
    assert cfg.audio.length == rep.x_res * rep.hop_length - 1, "audio.length must be x_res * hop_length - 1"
    assert cfg.model.representation.sample_rate == cfg.audio.sample_rate
    assert list(cfg.model.network.unet.sample_size) == [rep.y_res, rep.x_res]
    assert cfg.model.scheduler.num_training_steps == cfg.trainer.max_steps


@pytest.mark.parametrize("exp", ["mel_diffusion_64", "mel_diffusion_demo"])
def test_mel_experiment_instantiates_and_encodes_training_clips(exp):
    cfg = compose(exp)
    model = hydra.utils.instantiate(cfg.model)
    assert isinstance(model.representation, MelRepresentation) and isinstance(model.network, UNet2DNetwork)
    assert isinstance(model.process, DDPMProcess if exp == "mel_diffusion_64" else RectifiedFlowProcess)
    assert isinstance(model.network.unet, UNet2DModel)
    rep = model.representation
    assert rep.tensor_shape(cfg.audio.length) == (1, rep.y_res, rep.x_res)
    assert list(model.network.unet.config.block_out_channels) == list(cfg.model.network.unet.block_out_channels)


def test_mel_diffusion_is_teticios_256_recipe():
    cfg = compose("mel_diffusion")
    assert (cfg.audio.sample_rate, cfg.audio.length) == (22050, 131071)
    rep, unet, noise = cfg.model.representation, cfg.model.network.unet, cfg.model.process
    assert (rep.x_res, rep.y_res, rep.hop_length, rep.n_fft) == (256, 256, 512, 2048)
    assert list(unet.block_out_channels) == [128, 128, 256, 256, 512, 512] and unet.layers_per_block == 2
    assert list(unet.down_block_types) == ["DownBlock2D"] * 4 + ["AttnDownBlock2D", "DownBlock2D"]
    assert list(unet.up_block_types) == ["UpBlock2D", "AttnUpBlock2D"] + ["UpBlock2D"] * 4
    assert noise._target_.endswith("DDPMProcess") and noise.num_train_timesteps == 1000
    assert (noise.prediction_type, noise.clip_sample) == ("epsilon", True)
    opt, lr = cfg.model.optimizer, cfg.model.scheduler
    assert (opt.lr, list(opt.betas), opt.eps, opt.weight_decay) == (1e-4, [0.95, 0.999], 1e-8, 1e-6)
    assert lr._target_.endswith("get_cosine_schedule_with_warmup") and lr.num_warmup_steps == 500
    assert cfg.datamodule.batch_size * cfg.trainer.accumulate_grad_batches == 16


def test_mel_64_uses_the_long_hop():
    rep = compose("mel_diffusion_64").model.representation
    assert (rep.x_res, rep.y_res, rep.hop_length) == (64, 64, 1024)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    cfg = compose("mel_diffusion_demo", "trainer.max_steps=40", "model.scheduler.num_warmup_steps=10")
    model = hydra.utils.instantiate(cfg.model)
    setup = model.configure_optimizers()
    optimizer, scheduler = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    assert setup["lr_scheduler"]["interval"] == "step"
    peak = cfg.model.optimizer.lr
    lrs = []
    for _ in range(40):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == 0.0 and lrs[5] == pytest.approx(peak / 2) and lrs[10] == pytest.approx(peak)
    assert lrs[25] == pytest.approx(peak / 2) and optimizer.param_groups[0]["lr"] == pytest.approx(0.0)


def test_debug_tiny_mel_shrinks_the_model():
    cfg = compose("mel_diffusion_demo", "debug=tiny")
    rep = cfg.model.representation
    assert cfg.audio.length == rep.x_res * rep.hop_length - 1
    model = hydra.utils.instantiate(cfg.model)
    assert sum(p.numel() for p in model.parameters()) < 100_000


@pytest.mark.parametrize("exp", ["mel_diffusion", "mel_diffusion_64", "mel_diffusion_demo"])
def test_mel_experiments_take_the_image_datamodule(exp, tmp_path):
    cfg = compose_config([f"exp={exp}", "datamodule=mel_images", f"datamodule.dataset.path={tmp_path}"])
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    rep = cfg.model.representation
    assert (datamodule.spec.height, datamodule.spec.width) == (rep.y_res, rep.x_res)
