"""init_from: a new run from another model's weights, in the representation and process it was
trained with; diffusers folders bring their mel settings; labels are matched by name."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import hydra
import pytest
import torch
from diffusers import DDPMScheduler, UNet2DModel
from omegaconf import open_dict

import src.training.init_from as init_from
from src.training.run import attach_vocabulary, train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def source_run(tmp_path_factory, data_dir):
    """A tiny conditional waveform run (v_cosine), 4 steps."""
    root = tmp_path_factory.mktemp("source")
    train(tiny_run_config(root, data_dir, "drum_diffusion_demo", "tiny"))
    return root / "run" / "checkpoints" / "last.ckpt"


def load(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_a_new_run_starts_from_the_weights_under_the_source_process(source_run, tmp_path, data_dir, caplog):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                          (f"init_from={source_run}", "model/process=rectified_flow", "trainer.max_steps=2"))
    prepared = init_from.prepare(cfg)
    assert cfg.model.process._target_.endswith("VCosineProcess")  # the objective it was trained with
    attach_vocabulary(cfg, hydra.utils.instantiate(cfg.datamodule))
    model = hydra.utils.instantiate(cfg.model)
    with caplog.at_level(logging.INFO):
        init_from.load_weights(model, prepared)
    source = load(source_run)["state_dict"]
    assert all(torch.equal(tensor, source[name]) for name, tensor in model.state_dict().items())

    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                          (f"init_from={source_run}", "model/process=rectified_flow", "trainer.max_steps=2"))
    with caplog.at_level(logging.WARNING):
        train(cfg)
    assert any("VCosineProcess" in message and "not used" in message for message in caplog.messages)
    tuned = load(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert tuned["global_step"] == 2  # a new step count, in its own run folder
    assert tuned["config"]["init_from"] == str(source_run) and tuned["config"]["model"]["process"]["_target_"].endswith("VCosineProcess")


def test_a_source_older_than_a_representation_setting_runs_without_it(tmp_path, data_dir):
    """A demo checkpoint from before `mdct_low_bands` existed: its config lacks the key, which the
    experiment's network refers to; the source ran without a low path, and so does its fine-tune."""
    train(tiny_run_config(tmp_path / "old", data_dir, "drum_diffusion_demo", "tiny", ("model.representation.mdct_low_bands=0",)))
    old = load(tmp_path / "old" / "run" / "checkpoints" / "last.ckpt")
    del old["config"]["model"]["representation"]["mdct_low_bands"]
    torch.save(old, tmp_path / "old.ckpt")
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", (f"init_from={tmp_path / 'old.ckpt'}",))
    prepared = init_from.prepare(cfg)
    assert cfg.model.representation.mdct_low_bands == 0
    attach_vocabulary(cfg, hydra.utils.instantiate(cfg.datamodule))
    model = hydra.utils.instantiate(cfg.model)
    init_from.load_weights(model, prepared)
    assert all(torch.equal(tensor, old["state_dict"][name]) for name, tensor in model.state_dict().items())


def test_new_labels_keep_the_vectors_of_known_ones(source_run, tmp_path, data_dir):
    table = tmp_path / "labels.csv"
    kit = data_dir / "demo_drums"
    table.write_text("file,label\n" + "".join(f"{p.relative_to(kit).as_posix()},{'tom' if 'hihat' in p.name else p.parent.name}\n"
                                            for p in sorted(kit.rglob("*.wav"))))
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", (f"init_from={source_run}",))
    prepared = init_from.prepare(cfg)
    with open_dict(cfg):
        cfg.model.labels, cfg.model.network.num_classes = ["kick", "snare", "tom"], 3
    model = hydra.utils.instantiate(cfg.model)
    fresh = model.network.class_embedding.weight.detach().clone()
    init_from.load_weights(model, prepared)
    old = load(source_run)["state_dict"]["network.class_embedding.weight"]  # hihat, kick, snare, null
    new = model.network.class_embedding.weight.detach()
    assert torch.equal(new[0], old[1]) and torch.equal(new[1], old[2]) and torch.equal(new[3], old[3])
    assert torch.equal(new[2], fresh[2])  # tom starts untrained


def test_other_networks_mismatched_sources_and_tad_checkpoints_are_refused(source_run, tmp_path, data_dir):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                          (f"init_from={source_run}", "model.network.channels=[8,16]"))
    prepared = init_from.prepare(cfg)
    attach_vocabulary(cfg, hydra.utils.instantiate(cfg.datamodule))
    with pytest.raises(ValueError, match=r"do not fit this model \(network\.net\..* in the checkpoint"):
        init_from.load_weights(hydra.utils.instantiate(cfg.model), prepared)
    with pytest.raises(ValueError, match="is class-conditional .* but this run has no labels"):
        cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                              (f"init_from={source_run}", "datamodule.dataset.labels=none"))
        init_from.load_weights(hydra.utils.instantiate(cfg.model), init_from.prepare(cfg))
    with pytest.raises(ValueError, match="give one of them"):
        init_from.prepare(tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                                          (f"init_from={source_run}", f"ckpt={source_run}")))


@pytest.fixture
def pipeline_folder(tmp_path):
    """A diffusers pipeline folder whose mel/ says 64x64 at 22.05 kHz with hop 1024."""
    folder = tmp_path / "pipeline"
    UNet2DModel(sample_size=[64, 64], in_channels=1, out_channels=1, layers_per_block=1,
                block_out_channels=[8, 8], down_block_types=["DownBlock2D", "DownBlock2D"],
                up_block_types=["UpBlock2D", "UpBlock2D"], norm_num_groups=4).save_pretrained(folder / "unet")
    DDPMScheduler(num_train_timesteps=1000).save_pretrained(folder / "scheduler")
    (folder / "mel").mkdir()
    (folder / "mel" / "mel_config.json").write_text(json.dumps(
        {"_class_name": "Mel", "x_res": 64, "y_res": 64, "sample_rate": 22050, "n_fft": 2048, "hop_length": 1024,
         "top_db": 80, "n_iter": 32}))
    return folder


def test_a_pipeline_folder_brings_its_mel_settings(pipeline_folder, tmp_path, data_dir, caplog, monkeypatch):
    cfg = tiny_run_config(tmp_path, data_dir, "mel_diffusion_demo", "tiny", (f"init_from={pipeline_folder}",))
    with caplog.at_level(logging.WARNING):
        init_from.prepare(cfg)
    rep = cfg.model.representation
    assert (rep.sample_rate, rep.hop_length, rep.x_res, rep.n_fft) == (22050, 1024, 64, 2048)
    assert cfg.audio.sample_rate == 22050 and cfg.audio.length == 64 * 1024 - 1
    assert cfg.model.network.pretrained == str(pipeline_folder)
    assert any("model.representation.hop_length=1024" in message for message in caplog.messages)
    # the older spelling, model.network.pretrained, does the same; a command-line setting wins, with a warning
    monkeypatch.setattr(init_from, "command_line_keys", lambda: ["model.representation.hop_length"])
    cfg = tiny_run_config(tmp_path, data_dir, "mel_diffusion_demo", "tiny", (f"model.network.pretrained={pipeline_folder}",))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        init_from.prepare(cfg)
    assert cfg.model.representation.hop_length != 1024 and cfg.model.representation.sample_rate == 22050
    assert any("keeping model.representation.hop_length" in message for message in caplog.messages)


def test_the_finetune_recipe_adapts_a_demo_model_to_real_one_shots(source_run, tmp_path, data_dir, shared_drums):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_finetune_demo", "tiny",
                          (f"init_from={source_run}", f"datamodule.dataset.path={shared_drums}", "trainer.max_steps=2"))
    train(cfg)
    tuned = load(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert tuned["global_step"] == 2 and tuned["config"]["model"]["labels"] == ["hihat", "kick", "snare"]


def test_the_finetune_recipe_says_it_needs_init_from(tmp_path, data_dir):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "train.py", "exp=drum_finetune_demo", "debug=tiny",
                             f"paths.data_dir={data_dir}", f"hydra.run.dir={tmp_path / 'run'}"],
                            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"})
    assert result.returncode != 0 and "error: init_from is required here" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_tiny_audio_diffusion_checkpoint_starts_a_waveform_run(tmp_path, data_dir):
    """Its EMA weights, on raw samples under v-diffusion, as tiny-audio-diffusion trained it."""
    from audio_diffusion_pytorch import DiffusionModel, UNetV0

    sizes = dict(in_channels=1, channels=[8, 8], factors=[1, 4], items=[1, 1], attentions=[0, 1], attention_heads=2,
                 attention_features=8, modulation_features=32)
    ema = DiffusionModel(net_t=UNetV0, **sizes)
    state = {f"model_ema.ema_model.{k}": v for k, v in ema.state_dict().items()}
    state |= {f"model.{k}": torch.zeros_like(v) for k, v in ema.state_dict().items()}
    tad = tmp_path / "tad.ckpt"
    torch.save({"state_dict": state, "global_step": 3, "pytorch-lightning_version": "1.7.7"}, tad)
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", (f"init_from={tad}",))
    prepared = init_from.prepare(cfg)
    assert cfg.model.representation.scale == 1.0 and cfg.model.network.position_features == 0
    assert cfg.model.process._target_.endswith("VCosineProcess")
    attach_vocabulary(cfg, hydra.utils.instantiate(cfg.datamodule))
    model = hydra.utils.instantiate(cfg.model)
    init_from.load_weights(model, prepared)
    for name, tensor in ema.net.state_dict().items():
        assert torch.equal(model.network.net.state_dict()[name], tensor), name
