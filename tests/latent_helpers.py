"""Tiny mel representations, VAEs and audio shared by the latent-family tests."""

from __future__ import annotations

import copy
from pathlib import Path

import hydra
import torch
from omegaconf import OmegaConf

from src.models.vae_module import VAEModule

MEL = {"x_res": 16, "y_res": 16, "sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_iter": 4}
LENGTH = 16 * 64 - 1  # x_res * hop_length - 1: exactly 16 mel frames
VAE = {
    "_target_": "diffusers.AutoencoderKL",
    "in_channels": 1, "out_channels": 1,
    "down_block_types": ["DownEncoderBlock2D"] * 3, "up_block_types": ["UpDecoderBlock2D"] * 3,
    "block_out_channels": [8, 8, 16],  # 4x downsampling: 16x16 mels -> 4x4 latents
    "layers_per_block": 1, "latent_channels": 1, "norm_num_groups": 4, "sample_size": 16,
}


def vae_model_config(**overrides) -> dict:
    """A VAEModule config as train.py would store it in a checkpoint."""
    config = {
        "_target_": "src.models.vae_module.VAEModule",
        "representation": {"_target_": "src.representations.mel.MelRepresentation", **MEL},
        "vae": copy.deepcopy(VAE),
        "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-2},
        "kl_weight": 1e-6,
        "media_dir": None,
        "num_media": 2,
    }
    config.update(overrides)
    return config


def tiny_vae_module(seed: int = 0, **overrides) -> VAEModule:
    config = vae_model_config(**overrides)
    torch.manual_seed(seed)
    module = hydra.utils.instantiate(OmegaConf.create(config))
    module.run_config = {"model": config, "task_name": "vae_test"}
    return module


def save_vae_checkpoint(module: VAEModule, path: Path) -> Path:
    """A checkpoint with what LatentRepresentation and vae_export read: config + state_dict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": module.run_config, "state_dict": module.state_dict()}, path)
    return path


def drum_audio(batch: int = 4, seed: int = 0) -> torch.Tensor:
    """(batch, 1, LENGTH) decaying tones and noise bursts: varied, deterministic spectra."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(LENGTH) / MEL["sample_rate"]
    clips = []
    for _ in range(batch):
        freq, decay, noise_amount = torch.rand(3, generator=generator).tolist()
        tone = torch.sin(2 * torch.pi * (80 + 1500 * freq) * t)
        noise = torch.randn(LENGTH, generator=generator) * noise_amount
        clips.append((tone + noise) * torch.exp(-t / (0.01 + 0.1 * decay)) * 0.5)
    return torch.stack(clips)[:, None]


def latent_model_config(vae: str | Path, **overrides) -> dict:
    """A LatentDiffusionModule config over the tiny VAE: 16x16 mels -> 4x4 latents -> a 2-level UNet."""
    config = {
        "_target_": "src.models.latent_module.LatentDiffusionModule",
        "vae": str(vae),
        "representation": {
            "_target_": "src.representations.latent.LatentRepresentation",
            "vae": str(vae), "scaling_factor": None, "vae_config": None,
            "mel": {"_target_": "src.representations.mel.MelRepresentation", **MEL},
        },
        "process": {"_target_": "src.processes.ddpm.DDPMProcess", "num_train_timesteps": 100, "clip_sample": False},
        "network": {
            "_target_": "src.networks.unet2d.UNet2DNetwork",
            "unet": {
                "_target_": "diffusers.UNet2DModel", "sample_size": [4, 4], "in_channels": 1, "out_channels": 1,
                "layers_per_block": 1, "block_out_channels": [8, 16], "norm_num_groups": 4, "attention_head_dim": 4,
                "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
                "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
            },
        },
        # Weight decay on purpose: it must not touch the frozen VAE.
        "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-3, "weight_decay": 0.1},
        "sample_steps": 2,
        "scale_batches": 2,
    }
    config.update(overrides)
    return config
