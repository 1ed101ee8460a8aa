"""End to end on a tiny model: train -> checkpoint -> resume -> generate -> export."""

from __future__ import annotations

import copy
import json

import pytest
import soundfile as sf
import torch
from omegaconf import open_dict

from src.generation.export import export_checkpoint
from src.generation.sample import GenerateArgs, generate
from src.training.run import train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow


def with_overrides(cfg, **values):
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        for dotted, value in values.items():
            node = cfg
            *parents, leaf = dotted.split("__")
            for key in parents:
                node = node[key]
            node[leaf] = value
    return cfg


def load(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_train_resume_generate_export(tiny_cfg, tmp_path):
    run = tmp_path / "run"
    train(tiny_cfg)
    first = load(run / "checkpoints" / "last.ckpt")
    assert first["global_step"] == 4
    assert first["config"]["task_name"] == "drum_diffusion_demo"  # the ckpt describes itself
    assert {"current_model_state", "averaging_state"} <= first.keys()  # EMA state is saved
    assert (run / "config.yaml").exists()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000002", "step_0000004"]
    assert (run / "samples" / "step_0000004" / "sample_00_kick.png").exists()  # one per class: the demo is conditional
    metrics = (run / "csv" / "version_0" / "metrics.csv").read_text()
    assert "val/loss" in metrics and "train/loss" in metrics

    train(with_overrides(tiny_cfg, ckpt=str(run / "checkpoints" / "last.ckpt"), trainer__max_steps=8))
    resumed = load(run / "checkpoints" / "last.ckpt")
    assert resumed["global_step"] == 8  # the step count continued
    assert (run / "samples" / "step_0000008").is_dir()

    out = tmp_path / "gen"
    generate(GenerateArgs(ckpt=str(run / "checkpoints" / "last.ckpt"), num_samples=3, steps=3, batch_size=2,
                          out_dir=str(out)))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["sample_000.wav", "sample_001.wav", "sample_002.wav"]
    assert manifest["parameters"]["steps"] == 3 and manifest["sample_rate"] == 8000
    audio, rate = sf.read(out / "sample_000.wav")
    assert rate == 8000 and len(audio) == 1024 and (out / "sample_000.png").exists()

    exported = export_checkpoint(run / "checkpoints" / "last.ckpt", tmp_path / "saved" / "tiny")
    assert (exported / "config.yaml").exists()
    assert (exported / "model.ckpt").stat().st_size < (run / "checkpoints" / "last.ckpt").stat().st_size / 2
    again = tmp_path / "gen_exported"
    generate(GenerateArgs(ckpt=str(exported), num_samples=3, steps=3, batch_size=2, out_dir=str(again)))
    for name in manifest["files"]:
        assert (sf.read(out / name)[0] == sf.read(again / name)[0]).all()  # same EMA weights, same seed


def test_resume_at_epoch_boundary_is_bit_exact(tiny_cfg, tmp_path):
    whole = with_overrides(tiny_cfg, paths__output_dir=str(tmp_path / "whole"))
    train(whole)
    half = with_overrides(tiny_cfg, paths__output_dir=str(tmp_path / "half"), trainer__max_steps=2)
    train(half)
    train(with_overrides(half, trainer__max_steps=4, ckpt=str(tmp_path / "half" / "checkpoints" / "last.ckpt")))
    a = load(tmp_path / "whole" / "checkpoints" / "last.ckpt")
    b = load(tmp_path / "half" / "checkpoints" / "last.ckpt")
    assert a["global_step"] == b["global_step"] == 4
    for key in ("state_dict", "current_model_state"):  # EMA weights and raw weights
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), f"{key}.{name} differs after resume"
    for left, right in zip(a["optimizer_states"][0]["state"].values(), b["optimizer_states"][0]["state"].values()):
        assert torch.equal(left["exp_avg"], right["exp_avg"])


def test_ema_weights_differ_from_raw_weights(tiny_cfg, tmp_path):
    train(with_overrides(tiny_cfg, trainer__max_steps=6))
    ckpt = load(tmp_path / "run" / "checkpoints" / "last.ckpt")
    differs = [not torch.equal(v, ckpt["current_model_state"][k]) for k, v in ckpt["state_dict"].items()
               if v.is_floating_point()]
    assert any(differs)


@pytest.mark.parametrize("logger", ["tensorboard", "none"])
def test_other_loggers_and_periodic_checkpoints(tmp_path, data_dir, logger):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                          (f"logger={logger}", "callbacks.periodic_checkpoint.every_n_train_steps=2"))
    train(cfg)
    run = tmp_path / "run"
    assert {"step0000002.ckpt", "step0000004.ckpt", "last.ckpt"} <= {p.name for p in (run / "checkpoints").iterdir()}
    assert (run / "samples" / "step_0000004" / "sample_00_snare.wav").exists()  # files land whatever the logger
    events = list((run / "tensorboard").rglob("events.out.tfevents*"))
    assert bool(events) == (logger == "tensorboard")


def test_last_ckpt_is_the_newest_state_even_without_a_new_best(tmp_path, data_dir):
    # save_top_k=0: no "best" checkpoint is ever written; last.ckpt must still follow training.
    train(tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", ("callbacks.model_checkpoint.save_top_k=0",)))
    names = {p.name for p in (tmp_path / "run" / "checkpoints").iterdir()}
    assert names == {"last.ckpt"}
    assert load(tmp_path / "run" / "checkpoints" / "last.ckpt")["global_step"] == 4


def test_a_logger_that_fails_while_it_is_built_does_not_stop_training(tmp_path, data_dir, caplog):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", (
        "+logger.broken._target_=tests.training.broken_logger.BrokenLogger", "+logger.broken.project=drums"))
    with caplog.at_level("WARNING"):
        train(cfg)
    assert "logger.broken could not start" in caplog.text and "cannot reach the dashboard" in caplog.text
    assert load(tmp_path / "run" / "checkpoints" / "last.ckpt")["global_step"] == 4
    assert list((tmp_path / "run" / "csv").glob("version_*/metrics.csv"))  # the other logger still logs
