"""Checkpoints and exports made before the process layer (tests/fixtures/legacy, built on commit
37e93b5 by make_fixtures.py) load, sample the same tensors from the same noise, resume and export."""

from __future__ import annotations

import shutil
from pathlib import Path

import hydra
import pytest
import torch
from omegaconf import OmegaConf, open_dict

from src.checkpoints.files import read_checkpoint
from src.generation.checkpoint import load_model
from src.generation.export import export_checkpoint
from src.generation.sample import GenerateArgs, generate
from src.checkpoints.vae import load_vae_checkpoint
from src.representations.latent import LatentRepresentation
from src.checkpoints.legacy import upgrade_model_config, upgrade_state_dict
from src.networks.unet2d import UNet2DNetwork
from src.networks.unetv0 import UNetV0Network
from src.processes.ddpm import DDPMProcess
from src.processes.v_cosine import VCosineProcess
from src.training.fit_check import CheckpointMismatch, named_differences
from src.training.run import train
from tests.conftest import tiny_run_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
SOURCES = {"waveform": "waveform.ckpt", "mel": "mel.ckpt", "latent": "latent.ckpt",
           "export": "saved_models/waveform_export"}


@pytest.fixture(scope="module")
def expected() -> dict:
    return torch.load(FIXTURES / "expected.pt", weights_only=True)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_old_models_sample_the_same_tensors(name, expected):
    model, config = load_model(FIXTURES / SOURCES[name])
    assert "backend" not in config["model"] and "network" in config["model"]
    network, process = (UNetV0Network, VCosineProcess) if name in ("waveform", "export") else (UNet2DNetwork, DDPMProcess)
    assert isinstance(model.network, network) and isinstance(model.process, process)
    out = model.sample_tensors(expected[name]["noise"], 4)
    assert torch.allclose(out, expected[name]["tensors"], atol=1e-5)


def test_old_names_map_in_one_place():
    state = {"backend.model.net.a": 1, "backend.model.diffusion.net.a": 1, "backend.model.sampler.net.a": 1,
             "backend.unet.b": 2, "representation.scaling_factor": 3, "network.unet.c": 4}
    assert upgrade_state_dict(state) == {"network.net.a": 1, "network.unet.b": 2,
                                         "representation.scaling_factor": 3, "network.unet.c": 4}
    noisy = upgrade_model_config({"backend": {"_target_": "src.backends.unet2d.UNet2DBackend", "unet": {},
                                              "scheduler": {"num_train_timesteps": 10}, "sampler": "ddim", "eta": 0.5}})
    assert (noisy["sampler"], noisy["eta"]) == ("ancestral", 0.5)  # DDIM with eta > 0 was stochastic
    with pytest.raises(ValueError, match="model.backend._target_='src.backends.other.X'"):
        upgrade_model_config({"backend": {"_target_": "src.backends.other.X"}})


def test_reexporting_an_old_checkpoint_writes_todays_config(tmp_path, expected):
    folder = export_checkpoint(FIXTURES / "mel.ckpt", tmp_path / "mel_export")
    config = read_checkpoint(folder)["config"]
    assert config["model"]["process"]["_target_"] == "src.processes.ddpm.DDPMProcess"
    assert "backend" not in (folder / "config.yaml").read_text()
    model, _ = load_model(folder)
    assert torch.allclose(model.sample_tensors(expected["mel"]["noise"], 4), expected["mel"]["tensors"], atol=1e-5)


def test_generate_runs_every_mode_on_an_old_export(tmp_path):
    out = generate(GenerateArgs(ckpt=str(FIXTURES / SOURCES["export"]), num_samples=1, steps=2,
                                out_dir=str(tmp_path / "sample")))
    assert (out / "sample_000.wav").is_file()
    generate(GenerateArgs(ckpt=str(FIXTURES / SOURCES["export"]), num_samples=1, steps=2, mode="variation",
                          init_audio=str(out / "sample_000.wav"), out_dir=str(tmp_path / "variation")))
    assert (tmp_path / "variation" / "sample_000.wav").is_file()


RESUMES = {
    # the demo's settings when the fixture was trained: plain UNetV0 input, raw samples, no labels
    "waveform": ("drum_diffusion_demo", "tiny", ["model.network.position_features=0", "model.representation.scale=1.0",
                                                 "model.representation.mdct_bands=0", "model.representation.mdct_low_bands=0",
                                                 "model.network.gate=false", "model.process.gate_level_weight=0",
                                                 "model.process.gate_level_power_channels=0",
                                                 "model.network.level_features=false", "model.scheduler=null",
                                                 "model.process.min_noise_ratio=null",
                                                 "datamodule.dataset.labels=none"]),
    "mel": ("mel_diffusion_demo", "tiny", ["model/process=ddpm_v", "model.process.num_train_timesteps=100",
                                           "datamodule.dataset.labels=none"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RESUMES))
def test_old_runs_resume(name, tmp_path, data_dir):
    exp, debug, extra = RESUMES[name]
    ckpt = tmp_path / "old.ckpt"
    shutil.copy(FIXTURES / SOURCES[name], ckpt)
    cfg = tiny_run_config(tmp_path, data_dir, exp, debug, ("trainer.max_steps=6", "callbacks.quality=null", *extra))
    with open_dict(cfg):
        cfg.ckpt = str(ckpt)
    trainer = train(cfg)
    assert trainer.global_step == 6  # continued from step 4
    resumed = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == 6 and not any(k.startswith("backend.") for k in resumed["state_dict"])
    assert set(resumed["state_dict"]) == set(resumed["current_model_state"])


def test_old_vae_checkpoint_still_serves_latent_models():
    vae, mel = load_vae_checkpoint(FIXTURES / "vae.ckpt")
    assert vae.config.latent_channels == 1 and mel["x_res"] == 16
    mel_rep = hydra.utils.instantiate(OmegaConf.create(mel))
    rep = LatentRepresentation(mel=mel_rep, vae=str(FIXTURES / "vae.ckpt"), scaling_factor=1.0)
    assert rep.tensor_shape() == (1, 4, 4)


def test_resuming_with_todays_defaults_names_the_settings_that_changed(tmp_path, data_dir):
    """The waveform fixture predates the demo's position channels and x4 scale: resuming it with
    today's command stops before training, naming both, instead of a state-dict error."""
    ckpt = tmp_path / "old.ckpt"
    shutil.copy(FIXTURES / SOURCES["waveform"], ckpt)
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", ("trainer.max_steps=6",))
    with open_dict(cfg):
        cfg.ckpt = str(ckpt)
    with pytest.raises(CheckpointMismatch, match=r"model\.network\.position_features: unset -> 4") as raised:
        train(cfg)
    assert "model.representation.scale: unset -> 4.0" in str(raised.value)
    assert not (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()


def test_a_mismatch_names_every_shape_setting_and_a_few_others():
    old = {"model.network.channels": [8], "model.sampler": "ddim", "model.cfg_scale": 1.0}
    new = {f"model.network.option{i}": i + 1 for i in range(12)}  # options added since, switched on
    new.update({"model.network.channels": [16], "model.network.gate": False, "model.sampler": None,
                "model.cfg_scale": 2.0, **{f"model.process.extra{i}": i for i in range(8)}})
    message = named_differences(old, new)
    assert message.startswith("model.network.channels: [8] -> [16]")
    assert all(f"model.network.option{i}: unset -> {i + 1}" in message for i in range(12))  # none cut off
    # then, of the rest (settings outside the network and representation, and options added but off), five
    assert message.count("; ") == 12 + 5 and message.endswith(f" and {2 + 8 + 1 - 5} more")
