"""compile=true: training runs the network compiled in place, and its checkpoints load without it."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from omegaconf import open_dict

from src.generation.checkpoint import load_model
from src.training.run import train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow


def test_training_runs_the_compiled_network_and_checkpoints_keep_their_names(tmp_path, data_dir):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                          ("compile=true", "trainer.max_steps=2", "trainer.num_sanity_val_steps=0",
                           "trainer.check_val_every_n_epoch=100"))
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    trainer = train(cfg)
    network = trainer.lightning_module.network
    assert network._compiled_call_impl is not None
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 1  # the loss called the compiled forward
    model, _ = load_model(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert model.network._compiled_call_impl is None  # generation builds a plain model from the same names
    assert model.generate(1, steps=2).isfinite().all()


def test_a_model_without_a_network_is_named(tmp_path, data_dir):
    cfg = tiny_run_config(tmp_path, data_dir, "vae_demo", "tiny", ("compile=true",))
    with open_dict(cfg):
        cfg.trainer.max_steps = 1
    with pytest.raises(ValueError, match="compile=true compiles a diffusion model's network"):
        train(cfg)
