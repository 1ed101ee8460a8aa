"""A shared checkpoint or export can name classes to build, but only allowlisted ones are built."""

from __future__ import annotations

import subprocess
import sys

import hydra
import pytest
import torch
from omegaconf import OmegaConf

from src.checkpoints.files import CheckpointError
from src.checkpoints.trusted import TRUSTED_TARGETS_ENV, check_trusted, is_trusted, trust_targets
from src.generation.checkpoint import load_model
from src.generation.export import export_checkpoint
from src.models.diffusion_module import AudioDiffusionModule
from src.representations.latent import load_vae
from tests.conftest import ROOT, compose_config


def write_text_target(victim) -> dict:
    """The config from the security report: Path(victim).write_text(...) when instantiated."""
    return {"_target_": "pathlib.Path.write_text",
            "_args_": [{"_target_": "pathlib.Path", "_args_": [str(victim)]}, "echo pwned\n"]}


def save_checkpoint(path, model_config: dict) -> str:
    torch.save({"config": {"model": model_config}, "state_dict": {}}, path)
    return str(path)


@pytest.fixture(scope="module")
def tiny_model_config() -> dict:
    config = compose_config(["exp=drum_diffusion_demo", "debug=tiny"])
    return OmegaConf.to_container(config.model, resolve=True)


def test_generate_refuses_the_reported_file_write_and_writes_nothing(tmp_path):
    victim = tmp_path / "profile"
    ckpt = save_checkpoint(tmp_path / "evil.ckpt", write_text_target(victim))
    result = subprocess.run([sys.executable, str(ROOT / "generate.py"), f"ckpt={ckpt}", f"out_dir={tmp_path / 'out'}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert not victim.exists()
    last_line = result.stderr.strip().splitlines()[-1]
    assert "refused" in last_line and "'pathlib.Path.write_text'" in last_line and "Traceback" not in result.stderr


def test_a_target_nested_in_a_real_model_config_is_refused(tmp_path, tiny_model_config):
    victim = tmp_path / "nested"
    config = {**tiny_model_config, "network": {**tiny_model_config["network"], "channels": write_text_target(victim)}}
    with pytest.raises(CheckpointError, match=r"model\.network\.channels\._target_='pathlib.Path.write_text'"):
        load_model(save_checkpoint(tmp_path / "nested.ckpt", config))
    assert not victim.exists()


def test_a_target_in_a_vae_checkpoint_is_refused(tmp_path):
    victim = tmp_path / "vae"
    vae_ckpt = save_checkpoint(tmp_path / "vae.ckpt", {"_target_": "src.models.vae_module.VAEModule",
                                                        "vae": write_text_target(victim)})
    with pytest.raises(ValueError, match=r"model\.vae\._target_='pathlib.Path.write_text'"):
        load_vae(vae_ckpt)  # what LatentRepresentation(vae=<a .ckpt>) calls
    assert not victim.exists()


def test_an_export_refuses_to_pass_on_an_untrusted_config(tmp_path):
    ckpt = save_checkpoint(tmp_path / "evil.ckpt", {"_target_": "os.system", "command": "true"})
    with pytest.raises(CheckpointError, match="os.system"):
        export_checkpoint(ckpt, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_an_exported_folder_is_checked_like_a_checkpoint(tmp_path):
    folder = tmp_path / "saved_models" / "evil"
    folder.mkdir(parents=True)
    victim = tmp_path / "export_victim"
    save_checkpoint(folder / "model.ckpt", write_text_target(victim))
    with pytest.raises(CheckpointError, match="refused"):
        load_model(folder)
    assert not victim.exists()


def test_interpolations_are_refused_before_any_resolver_runs(tmp_path):
    config = {"_target_": "src.models.diffusion_module.AudioDiffusionModule", "sample_steps": "${run_id:/tmp/x}"}
    with pytest.raises(CheckpointError, match="interpolation"):
        check_trusted(config, "crafted.ckpt")


def test_the_project_and_library_classes_are_trusted_and_others_only_when_the_user_says(monkeypatch):
    assert is_trusted("src.networks.unetv0.UNetV0Network")
    assert is_trusted("torch.optim.AdamW") and is_trusted("diffusers.UNet2DModel")
    assert not is_trusted("src.utils.resolvers.run_id")  # project code, but not a class the configs build
    assert not is_trusted("mylab.nets.MyNet")
    monkeypatch.setenv(TRUSTED_TARGETS_ENV, "mylab.nets.MyNet, otherlab.")
    assert is_trusted("mylab.nets.MyNet") and is_trusted("otherlab.deep.Net")
    assert not is_trusted("mylab.nets.Other")
    monkeypatch.delenv(TRUSTED_TARGETS_ENV)
    trust_targets(["mylab.nets.Other"])
    assert is_trusted("mylab.nets.Other")


def test_real_checkpoints_still_load(tmp_path, tiny_model_config):
    model = hydra.utils.instantiate(OmegaConf.create(tiny_model_config))
    path = tmp_path / "real.ckpt"
    torch.save({"config": {"model": tiny_model_config}, "state_dict": model.state_dict()}, path)
    loaded, _ = load_model(path)
    assert isinstance(loaded, AudioDiffusionModule)
