"""End to end on a tiny mel model: train -> checkpoint -> resume -> generate -> diffusers export."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
import torch
from diffusers import DiffusionPipeline
from omegaconf import open_dict
from PIL import Image

from src.generation.diffusers_export import main as export_pipeline
from src.generation.sample import GenerateArgs, generate
from src.training.run import train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_mel_cfg(tmp_path, data_dir):
    # On the ddpm process: the run ends in a diffusers pipeline export, which runs only DDPM/DDIM,
    # and unconditionally (a conditional model exports as components: test_diffusers_export.py).
    return tiny_run_config(tmp_path, data_dir, "mel_diffusion_demo", "tiny",
                           ("model/process=ddpm_v", "datamodule.dataset.labels=none"))


def load(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_mel_train_resume_generate_export(tiny_mel_cfg, tmp_path, monkeypatch):
    run = tmp_path / "run"
    train(tiny_mel_cfg)
    first = load(run / "checkpoints" / "last.ckpt")
    assert first["global_step"] == 4 and first["config"]["task_name"] == "mel_diffusion_demo"
    assert any(key.startswith("network.unet.") for key in first["state_dict"])
    assert first["lr_schedulers"][0]["last_epoch"] == 4  # the cosine LR is stepped per optimizer step
    assert (run / "samples" / "step_0000004" / "sample_00.wav").exists()
    # The generated mel image itself, 8-bit grey at the model's resolution, beside its audio's spectrogram.
    mel_png = Image.open(run / "samples" / "step_0000004" / "sample_00_mel.png")
    assert mel_png.mode == "L" and mel_png.size == (16, 16)
    assert "val/loss" in (run / "csv" / "version_0" / "metrics.csv").read_text()

    with open_dict(tiny_mel_cfg):
        tiny_mel_cfg.ckpt = str(run / "checkpoints" / "last.ckpt")
        tiny_mel_cfg.trainer.max_steps = 6
    train(tiny_mel_cfg)
    resumed = load(run / "checkpoints" / "last.ckpt")
    assert resumed["global_step"] == 6 and resumed["lr_schedulers"][0]["last_epoch"] == 6

    out = tmp_path / "gen"
    args = GenerateArgs(ckpt=str(run / "checkpoints" / "last.ckpt"), num_samples=2, steps=3, batch_size=1,
                        out_dir=str(out))
    generate(args)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["sample_000.wav", "sample_001.wav"] and manifest["sample_rate"] == 8000
    assert Image.open(out / "sample_000_mel.png").size == (16, 16)
    audio, rate = sf.read(out / "sample_000.wav")
    assert rate == 8000 and len(audio) == 16 * 64 - 1  # x_res * hop_length - 1
    again = tmp_path / "gen_again"
    torch.manual_seed(321)  # the global RNG must not matter: the seed alone fixes the audio
    generate(GenerateArgs(**{**vars(args), "out_dir": str(again)}))
    assert (sf.read(out / "sample_001.wav")[0] == sf.read(again / "sample_001.wav")[0]).all()

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    export_pipeline([f"ckpt={run / 'checkpoints' / 'last.ckpt'}", f"out_dir={tmp_path / 'pipe'}"])
    pipe = DiffusionPipeline.from_pretrained(tmp_path / "pipe", local_files_only=True)
    ema = resumed["state_dict"]["network.unet.conv_in.weight"]
    assert torch.equal(pipe.unet.conv_in.weight, ema)  # the EMA weights, not the raw ones
    assert not torch.equal(ema, resumed["current_model_state"]["network.unet.conv_in.weight"])
    assert pipe(batch_size=1, steps=2).audios.shape == (1, 1, 15 * 64)
