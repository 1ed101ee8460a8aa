"""Latent diffusion's representation: a frozen VAE over mel images.

audio -> mel image (MelRepresentation) -> VAE posterior mean -> times `scaling_factor`, and back:
latents / scaling_factor -> VAE decoder -> mel image -> Griffin-Lim.

Encoding uses the posterior *mean*, not a sample: the same clip always gives the same target,
a pre-encoded cache is exactly what on-the-fly encoding gives, and validation losses stay
comparable. With the small KL weights these VAEs train with (1e-6) the posterior's spread is a
tiny fraction of the latents' spread, so sampling would add little but noise.

The VAE's weights and the scaling factor are part of this module's state_dict, hence of every
latent diffusion checkpoint: a checkpoint keeps working when the VAE file it was trained from
changes or disappears (LatentDiffusionModule also records the VAE's architecture in the
checkpoint's config, see `vae_config`)."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from omegaconf import DictConfig, OmegaConf

from src.checkpoints.vae import load_vae_checkpoint, vae_downsampling
from src.representations.base import Representation
from src.representations.mel import MelRepresentation

# Mel settings that must match between the VAE's training and its use (x_res may differ:
# the VAE is convolutional, any width that divides by its downsampling works).
MEL_SETTINGS = ("sample_rate", "y_res", "n_fft", "hop_length", "top_db")
VAE_SUBFOLDERS = ("", "vqvae", "vae")  # an AutoencoderKL folder, or a pipeline holding one


def find_vae_folder(folder: Path, source: str) -> Path:
    for sub in VAE_SUBFOLDERS:
        candidate = folder / sub if sub else folder
        if (candidate / "config.json").is_file():
            class_name = AutoencoderKL.load_config(str(candidate)).get("_class_name")
            if class_name != "AutoencoderKL":
                raise ValueError(f"model.vae={source}: {candidate / 'config.json'} describes a {class_name}, "
                                 "not an AutoencoderKL")
            return candidate
    raise ValueError(f"model.vae={source}: no config.json in the folder (nor in vqvae/ or vae/); "
                     "expected a diffusers AutoencoderKL folder")


def load_vae(source: str) -> tuple[AutoencoderKL, dict | None]:
    """A VAE from a `.ckpt` of `exp=vae` or a local diffusers AutoencoderKL folder (never a hub
    download), plus the mel settings it was trained on when the checkpoint records them."""
    path = Path(str(source)).expanduser()
    if not path.exists():
        raise ValueError(f"model.vae={source}: no such file or folder; pass a VAE checkpoint from "
                         "`python train.py exp=vae` or a diffusers AutoencoderKL folder")
    if path.is_dir():
        folder = find_vae_folder(path, str(source))
        return AutoencoderKL.from_pretrained(str(folder), local_files_only=True), None
    try:
        return load_vae_checkpoint(path)
    except ValueError as err:
        raise ValueError(f"model.vae={source}: {err}") from err


def check_mel_settings(trained_on: Mapping, mel: MelRepresentation, source: str) -> None:
    wrong = [f"{key}={getattr(mel, key)} (VAE: {trained_on[key]})" for key in MEL_SETTINGS
             if key in trained_on and trained_on[key] != getattr(mel, key)]
    if wrong:
        raise ValueError(f"model.vae={source} was trained on other mel images; set model.representation.mel "
                         f"to the VAE's settings: {', '.join(wrong)}")


class LatentRepresentation(Representation):
    """Scaled latents of a frozen AutoencoderKL over `mel`'s images.

    Args:
        mel: the mel images the VAE autoencodes.
        vae: a VAE checkpoint (`.ckpt` of `python train.py exp=vae`) or a diffusers AutoencoderKL folder
            (or a pipeline folder with `vqvae/`); read locally only.
        scaling_factor: multiplies the latents so they have about latent_std spread. Null: measured on the
            training data at fit start (LatentDiffusionModule) as latent_std / std of the latents. A
            folder's own `scaling_factor` is ignored: diffusers fills in Stable Diffusion's 0.18215 for
            any VAE.
        latent_std: the spread a measured scaling factor gives the latents; 1 is Stable Diffusion's
            unit spread. Under 1 the latents sit lower against the unit noise, so a fixed noise
            schedule spends more of its training times and sampling steps where little of the clip
            shows through (as a sampling shift towards noise does).
        vae_config: the VAE's architecture. Written into checkpoints by LatentDiffusionModule; when
            set, `vae` is not read and the weights come from the checkpoint's state_dict."""

    def __init__(self, mel: MelRepresentation, vae: str, scaling_factor: float | None = None,
                 vae_config: Mapping | None = None, latent_std: float = 1.0) -> None:
        super().__init__(mel.sample_rate, mel.channels, mel.length)
        if scaling_factor is not None and not (math.isfinite(scaling_factor) and scaling_factor > 0):
            raise ValueError(f"scaling_factor must be a positive number or null (measure it), got {scaling_factor}")
        if not (math.isfinite(latent_std) and latent_std > 0):
            raise ValueError(f"model.representation.latent_std must be a positive number, got {latent_std}")
        self.latent_std = float(latent_std)
        self.mel = mel
        self.vae_source = str(vae)
        if vae_config is not None:
            # Plain types: Hydra passes DictConfig/ListConfig, which diffusers' JSON configs cannot hold.
            plain = OmegaConf.to_container(vae_config) if isinstance(vae_config, DictConfig) else dict(vae_config)
            model = AutoencoderKL.from_config({k: v for k, v in plain.items() if not k.startswith("_")})
        else:
            model, trained_on = load_vae(self.vae_source)
            if trained_on:
                check_mel_settings(trained_on, mel, self.vae_source)
        check_vae_fits(model, mel)
        if vae_downsampling(model) < 2:
            raise ValueError(f"model.vae={vae} does not downsample (one level): its latents would be full-size "
                             "mel images; use the mel family instead")
        self.vae = model.requires_grad_(False).eval()
        nan = float("nan")
        self.register_buffer("scaling_factor", torch.tensor(nan if scaling_factor is None else float(scaling_factor)))

    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_channels)

    @property
    def downsampling(self) -> int:
        return vae_downsampling(self.vae)

    def train(self, mode: bool = True) -> LatentRepresentation:
        super().train(mode)
        self.vae.eval()  # frozen: inference mode whatever Lightning switches the model to
        return self

    def is_cached_latents(self, x: torch.Tensor) -> bool:
        """4-D (batch, latent_channels, y_res / downsampling, width) tensors are pre-encoded latents
        (unscaled posterior means from src.data.latent_cache); mel images have y_res rows."""
        return x.dim() == 4 and tuple(x.shape[1:3]) == (self.latent_channels, self.mel.y_res // self.downsampling)

    @torch.no_grad()
    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """Unscaled posterior means of audio (batch, channels, samples), mel images or cached latents."""
        if self.is_cached_latents(x):
            return x
        images = self.mel.encode(x)
        return self.vae.encode(images.to(self.vae.dtype)).latent_dist.mode()

    def scale(self) -> torch.Tensor:
        if not self.is_scale_set():
            raise ValueError("the latent scaling factor is unset: set model.representation.scaling_factor, or train "
                             "with LatentDiffusionModule, which measures it on the training data at fit start")
        return self.scaling_factor

    def is_scale_set(self) -> bool:
        return bool(torch.isfinite(self.scaling_factor))

    def set_scaling_factor(self, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"scaling factor must be positive and finite, got {value}")
        self.scaling_factor.fill_(value)

    @torch.no_grad()
    def measure_scaling_factor(self, batches: Iterable[torch.Tensor]) -> float:
        """latent_std / std of the unscaled latents over `batches` (Stable Diffusion's `scaling_factor`
        recipe, at latent_std 1)."""
        device = self.scaling_factor.device
        total = squares = torch.zeros((), dtype=torch.float64, device=device)
        count = 0
        for batch in batches:
            z = self.latents(batch.to(device)).double()
            total, squares, count = total + z.sum(), squares + z.square().sum(), count + z.numel()
        if count == 0:
            raise ValueError("no training batches to measure the latent scaling factor on")
        std = float((squares / count - (total / count) ** 2).clamp_min(0.0).sqrt())
        if not std > 0:
            raise ValueError("the VAE's latents of the training data are constant; cannot scale them to unit spread")
        return self.latent_std / std

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        return self.latents(audio) * self.scale()

    @torch.no_grad()
    def decode(self, x: torch.Tensor) -> torch.Tensor:
        z = (x / self.scale()).to(self.vae.dtype)
        images = self.vae.decode(z).sample.float().clamp(-1.0, 1.0)
        return self.mel.decode(images)

    def tensor_shape(self, length: int | None = None) -> tuple[int, ...]:
        _, height, frames = self.mel.tensor_shape(length)
        factor = self.downsampling
        if frames % factor:
            raise ValueError(f"{length or self.length} samples give {frames} mel frames, not a multiple of the VAE's "
                             f"downsampling {factor}: use k * {factor} * hop_length - 1 samples")
        return (self.latent_channels, height // factor, frames // factor)

    def vae_config(self) -> dict:
        """The VAE's architecture as plain JSON types (for checkpoint configs)."""
        return json.loads(json.dumps({k: v for k, v in dict(self.vae.config).items() if not k.startswith("_")}))

    def exportable_vae(self) -> AutoencoderKL:
        """A float32 CPU copy whose config carries the scaling factor (what diffusers pipelines read)."""
        vae = copy.deepcopy(self.vae).to(device="cpu", dtype=torch.float32)
        vae.register_to_config(scaling_factor=float(self.scale()))
        return vae.eval()


def check_vae_fits(vae: AutoencoderKL, mel: MelRepresentation) -> None:
    """ValueError naming the setting when `vae` cannot autoencode `mel`'s images."""
    if not isinstance(vae, AutoencoderKL):
        raise ValueError(f"model.vae must be a diffusers AutoencoderKL, got {type(vae).__name__}")
    if vae.config.in_channels != 1 or vae.config.out_channels != 1:
        raise ValueError(f"mel images have 1 channel: set model.vae.in_channels and out_channels to 1 "
                         f"(got {vae.config.in_channels} and {vae.config.out_channels})")
    factor = vae_downsampling(vae)
    for name, size in (("y_res", mel.y_res), ("x_res", mel.x_res)):
        if size % factor:
            raise ValueError(f"representation.{name}={size} is not a multiple of the VAE's downsampling "
                             f"{factor} (2 ** (len(block_out_channels) - 1))")
