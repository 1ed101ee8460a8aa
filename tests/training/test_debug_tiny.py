"""debug=tiny is a seconds-long smoke run in every family."""

from __future__ import annotations

import pytest
import torch

from src.training.run import train
from tests.conftest import compose_config, tiny_run_config

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("exp,tiny_part", [("drum_diffusion_demo", "network.channels"),
                                           ("mel_diffusion_demo", "network.unet.block_out_channels"),
                                           ("vae_demo", "vae.block_out_channels")])
def test_debug_tiny_composes_the_familys_part(exp, tiny_part):
    cfg = compose_config([f"exp={exp}", "debug=tiny"])
    assert cfg.trainer.max_steps == 4 and cfg.audio.sample_rate == 8000
    node = cfg.model
    for key in tiny_part.split("."):
        node = node[key]
    assert max(node) <= 16


def test_the_vae_then_the_latent_model_train_under_debug_tiny(tmp_path, data_dir):
    train(tiny_run_config(tmp_path / "vae", data_dir, "vae_demo", "tiny"))
    vae = tmp_path / "vae" / "run" / "checkpoints" / "last.ckpt"
    train(tiny_run_config(tmp_path / "latent", data_dir, "latent_diffusion_demo", "tiny", (f"model.vae={vae}",)))
    saved = torch.load(tmp_path / "latent" / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 4 and saved["config"]["model"]["representation"]["mel"]["x_res"] == 16
