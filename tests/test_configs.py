"""Every experiment composes, and its model and data module instantiate."""

import hydra
import pytest
import torch
from diffusers import AutoencoderKL
from omegaconf import OmegaConf
from omegaconf.errors import MissingMandatoryValue

from src.networks.base import Network
from src.processes.base import Process
from src.models.diffusion_module import AudioDiffusionModule
from src.models.vae_module import VAEModule
from tests.conftest import EXPERIMENTS, compose_config


def tiny_vae_folder(tmp_path):
    """An untrained 4-level (8x downsampling) AutoencoderKL folder, for latent experiments' model.vae."""
    vae = AutoencoderKL(in_channels=1, out_channels=1, down_block_types=["DownEncoderBlock2D"] * 4,
                        up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[4, 4, 4, 4],
                        layers_per_block=1, latent_channels=1, norm_num_groups=4)
    vae.save_pretrained(tmp_path / "tiny_vae")
    return tmp_path / "tiny_vae"


def test_there_are_experiments():
    assert {"drum_diffusion", "drum_diffusion_demo"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_experiment_composes_and_instantiates(exp, tmp_path):
    overrides = [f"exp={exp}", f"paths.data_dir={tmp_path}", "paths.output_dir=" + str(tmp_path)]
    cfg = compose_config(overrides)
    assert cfg.task_name == exp
    if OmegaConf.is_missing(cfg.model, "vae"):  # latent experiments: model.vae=<trained VAE> is required
        cfg = compose_config(overrides + [f"model.vae={tiny_vae_folder(tmp_path)}"])
    model = hydra.utils.instantiate(cfg.model)
    if isinstance(model, VAEModule):
        assert isinstance(model.vae, AutoencoderKL)
    else:
        assert isinstance(model, AudioDiffusionModule) and isinstance(model.network, Network) and isinstance(model.process, Process)
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    assert datamodule.batch_size >= 1
    # Everything except Hydra's own run-dir interpolation resolves.
    OmegaConf.to_container(cfg.model, resolve=True)


def test_drum_diffusion_is_the_tiny_audio_diffusion_recipe(tmp_path):
    cfg = compose_config(["exp=drum_diffusion"])
    assert (cfg.audio.sample_rate, cfg.audio.channels, cfg.audio.length) == (44100, 2, 32768)
    backend = cfg.model.network
    assert list(backend.channels) == [32, 32, 64, 64, 128, 128, 256, 256]
    assert list(backend.factors) == [1, 2, 2, 2, 2, 2, 2, 2]
    assert list(backend["items"]) == [2, 2, 2, 2, 2, 2, 4, 4]
    assert list(backend.attentions) == [0, 0, 0, 0, 0, 1, 1, 1]
    assert (backend.attention_heads, backend.attention_features) == (8, 64)
    assert cfg.model.process._target_.endswith("VCosineProcess") and cfg.model.sampler in (None, "ddim")  # v-diffusion, VSampler
    opt = cfg.model.optimizer
    assert (opt.lr, list(opt.betas), opt.eps, opt.weight_decay) == (1e-4, [0.95, 0.999], 1e-6, 1e-3)
    assert cfg.datamodule.batch_size == 1 and cfg.trainer.accumulate_grad_batches == 32
    assert cfg.trainer.precision == "16-mixed"
    assert cfg.callbacks.ema._target_.endswith("EMAWeightAveraging")


def test_overrides_reach_the_objects(tmp_path):
    cfg = compose_config(["exp=drum_diffusion_demo", "datamodule.dataset.path=/some/folder", "model.optimizer.lr=0.5"])
    assert hydra.utils.instantiate(cfg.datamodule).spec.path == "/some/folder"
    model = hydra.utils.instantiate(cfg.model)
    assert model.optimizer_factory.keywords["lr"] == 0.5


def test_config_typos_are_errors():
    with pytest.raises(Exception, match="batchsize"):
        compose_config(["exp=drum_diffusion_demo", "datamodule.batchsize=4"])


@pytest.mark.parametrize("exp", ["latent_diffusion", "latent_diffusion_demo"])
def test_latent_experiments_require_model_vae(exp):
    cfg = compose_config([f"exp={exp}"])
    with pytest.raises(MissingMandatoryValue, match="model.vae"):
        hydra.utils.instantiate(cfg.model)


def test_vae_is_teticios_shape():
    cfg = compose_config(["exp=vae"])
    vae, mel = cfg.model.vae, cfg.model.representation
    assert (mel.x_res, mel.y_res, cfg.audio.sample_rate, cfg.audio.length) == (256, 256, 22050, 256 * 512 - 1)
    assert list(vae.block_out_channels) == [128, 256, 512, 512]  # ch 128, ch_mult [1, 2, 4, 4]
    assert (vae.layers_per_block, vae.latent_channels, cfg.model.kl_weight) == (2, 1, 1e-6)
    latent = compose_config(["exp=latent_diffusion"]).model.representation.mel
    assert all(latent[key] == mel[key] for key in ("x_res", "y_res", "n_fft", "hop_length", "top_db"))


def test_data_that_does_not_match_the_model_is_a_clear_error():
    model = hydra.utils.instantiate(compose_config(["exp=drum_diffusion_demo", "debug=tiny"]).model)
    with pytest.raises(ValueError, match="audio.length must be 1024"):
        model.training_step(torch.zeros(2, 1, 928), 0)  # a whole number of the demo's MDCT hops, but not the model's length
