"""Every experiment composes, and its model and data module instantiate."""

import hydra
import pytest
from omegaconf import OmegaConf

from src.backends.base import DiffusionBackend
from src.models.diffusion_module import AudioDiffusionModule
from tests.conftest import EXPERIMENTS, compose_config


def test_there_are_experiments():
    assert {"drum_diffusion", "drum_diffusion_demo"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_experiment_composes_and_instantiates(exp, tmp_path):
    cfg = compose_config([f"exp={exp}", f"paths.data_dir={tmp_path}", "paths.output_dir=" + str(tmp_path)])
    assert cfg.task_name == exp
    model = hydra.utils.instantiate(cfg.model)
    assert isinstance(model, AudioDiffusionModule) and isinstance(model.backend, DiffusionBackend)
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    assert datamodule.batch_size >= 1
    # Everything except Hydra's own run-dir interpolation resolves.
    OmegaConf.to_container(cfg.model, resolve=True)


def test_drum_diffusion_is_the_tiny_audio_diffusion_recipe(tmp_path):
    cfg = compose_config(["exp=drum_diffusion"])
    assert (cfg.audio.sample_rate, cfg.audio.channels, cfg.audio.length) == (44100, 2, 32768)
    backend = cfg.model.backend
    assert list(backend.channels) == [32, 32, 64, 64, 128, 128, 256, 256]
    assert list(backend.factors) == [1, 2, 2, 2, 2, 2, 2, 2]
    assert list(backend["items"]) == [2, 2, 2, 2, 2, 2, 4, 4]
    assert list(backend.attentions) == [0, 0, 0, 0, 0, 1, 1, 1]
    assert (backend.attention_heads, backend.attention_features) == (8, 64)
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
