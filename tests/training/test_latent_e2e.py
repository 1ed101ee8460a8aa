"""Latent diffusion end to end on tiny models: VAE train -> its checkpoint -> latent diffusion train
(scale measured, resumed) -> generate.py's generate -> diffusers AudioDiffusionPipeline with a vqvae."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from diffusers import DiffusionPipeline
from omegaconf import open_dict

from src.generation.checkpoint import load_model
from src.generation.diffusers_export import export_audio_diffusion_pipeline
from src.generation.sample import GenerateArgs, generate
from src.training.run import train
from tests.conftest import compose_config

pytestmark = pytest.mark.slow

MEL = {"x_res": 16, "y_res": 16, "n_fft": 256, "hop_length": 64, "n_iter": 4}  # 16x16 images of 1023 samples
COMMON = [
    "audio.sample_rate=8000", "audio.length=1023", "logger=csv",
    "datamodule.batch_size=4", "datamodule.num_workers=0",
    "trainer.max_steps=2", "+trainer.limit_train_batches=2", "+trainer.limit_val_batches=1",
    "trainer.check_val_every_n_epoch=1", "trainer.num_sanity_val_steps=0", "trainer.log_every_n_steps=1",
    "callbacks.model_summary=null", "callbacks.progress_bar=null",
]
VAE = [f"model.representation.{k}={v}" for k, v in MEL.items()] + [
    "model.vae.block_out_channels=[8,8,16]", "model.vae.layers_per_block=1", "model.vae.norm_num_groups=4",
    "model.num_media=1",
]
LATENT = [f"model.representation.mel.{k}={v}" for k, v in MEL.items()] + [
    "model.network.unet.sample_size=[4,4]", "model.network.unet.block_out_channels=[8,16]",
    "model.network.unet.down_block_types=[DownBlock2D,AttnDownBlock2D]",
    "model.network.unet.up_block_types=[AttnUpBlock2D,UpBlock2D]",
    "model.network.unet.norm_num_groups=4", "model.network.unet.attention_head_dim=4",
    "model.sample_steps=2", "model.scale_batches=2", "model.scheduler.num_warmup_steps=1",
    "callbacks.samples.num_samples=1",
]


def run_config(exp: str, overrides: list[str], data_dir, out_dir):
    cfg = compose_config([f"exp={exp}", f"paths.data_dir={data_dir}", f"paths.log_dir={out_dir.parent / 'logs'}",
                          *COMMON, *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
    return cfg


def load(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_vae_then_latent_diffusion_then_generate(data_dir, tmp_path):
    vae_run = tmp_path / "vae"
    train(run_config("vae_demo", VAE, data_dir, vae_run))
    vae_ckpt = vae_run / "checkpoints" / "last.ckpt"
    assert load(vae_ckpt)["config"]["task_name"] == "vae_demo"
    metrics = (vae_run / "csv" / "version_0" / "metrics.csv").read_text()
    assert "val/mel_l1" in metrics and "val/spectral_convergence" in metrics and "val/loss" in metrics
    assert (vae_run / "reconstructions" / "step_0000002" / "reconstruction_00.wav").exists()

    latent_run = tmp_path / "latent"
    latent_cfg = run_config("latent_diffusion_demo", [f"model.vae={vae_ckpt}", *LATENT], data_dir, latent_run)
    train(latent_cfg)
    first = load(latent_run / "checkpoints" / "last.ckpt")
    scale = first["state_dict"]["representation.scaling_factor"]
    assert torch.isfinite(scale) and scale > 0
    assert first["config"]["model"]["representation"]["vae_config"]["block_out_channels"] == [8, 8, 16]
    assert any(k.startswith("representation.vae.") for k in first["state_dict"])  # the VAE travels along
    assert (latent_run / "samples" / "step_0000002" / "sample_00_kick.wav").exists()  # the demo learns the kit's classes

    with open_dict(latent_cfg):
        latent_cfg.ckpt = str(latent_run / "checkpoints" / "last.ckpt")
        latent_cfg.trainer.max_steps = 4
    train(latent_cfg)
    resumed = load(latent_run / "checkpoints" / "last.ckpt")
    assert resumed["global_step"] == 4
    assert torch.equal(resumed["state_dict"]["representation.scaling_factor"], scale)  # restored, not re-measured

    out = tmp_path / "generated"
    generate(GenerateArgs(ckpt=str(latent_run / "checkpoints" / "last.ckpt"), num_samples=2, steps=2,
                          batch_size=2, out_dir=str(out)))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["sample_000.wav", "sample_001.wav"] and manifest["sample_rate"] == 8000
    audio, rate = sf.read(out / "sample_001.wav")
    assert rate == 8000 and len(audio) == 1023 and (out / "sample_001.png").exists()


def test_latent_model_exports_as_an_audio_diffusion_pipeline_with_its_vqvae(data_dir, tmp_path):
    vae_run, latent_run = tmp_path / "vae", tmp_path / "latent"
    train(run_config("vae_demo", VAE + ["trainer.max_steps=1"], data_dir, vae_run))
    vae_ckpt = vae_run / "checkpoints" / "last.ckpt"
    # On the ddpm process: the pipeline runs only DDPM/DDIM.
    train(run_config("latent_diffusion_demo", [f"model.vae={vae_ckpt}", *LATENT, "trainer.max_steps=1",
                                               "callbacks.samples=null", "model/process=ddpm_latent",
                                               "datamodule.dataset.labels=none"], data_dir, latent_run))
    model, _ = load_model(latent_run / "checkpoints" / "last.ckpt")
    rep = model.representation
    out = export_audio_diffusion_pipeline(model, tmp_path / "pipeline", vqvae=rep.exportable_vae(), mel=rep.mel)
    pipeline = DiffusionPipeline.from_pretrained(out, local_files_only=True)
    assert pipeline.vqvae.config.scaling_factor == pytest.approx(float(rep.scaling_factor))
    result = pipeline(batch_size=1, steps=2, generator=torch.Generator().manual_seed(0))
    # diffusers' Mel gives (x_res - 1) * hop_length samples (librosa's Griffin-Lim without a length).
    assert result.audios.shape == (1, 1, 15 * 64) and np.isfinite(result.audios).all()
    assert result.images[0].size == (16, 16)
