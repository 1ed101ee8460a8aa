"""Export a mel-family model as a diffusers `AudioDiffusionPipeline` folder (teticio/audio-diffusion layout).

    python -m src.generation.diffusers_export ckpt=<run>/checkpoints/last.ckpt out_dir=exports/my_mel
    python -m src.generation.diffusers_export ckpt=saved_models/<name> out_dir=exports/my_mel sampler=ddpm

The folder loads offline with `DiffusionPipeline.from_pretrained(out_dir)` and generates with
`pipeline(batch_size=..., steps=..., generator=...)`. The weights are the checkpoint's EMA
weights (what `load_model` puts into the model).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DModel
from diffusers.pipelines.deprecated.audio_diffusion import AudioDiffusionPipeline, Mel
from omegaconf import MISSING

from src.backends.unet2d import UNet2DBackend, check_sampler
from src.generation.checkpoint import load_model
from src.models.diffusion_module import AudioDiffusionModule
from src.representations.latent import LatentRepresentation
from src.representations.mel import MelRepresentation
from src.utils.cli import parse_cli, run_cli

log = logging.getLogger(__name__)
PIPELINE_INDEX = "model_index.json"


@dataclass
class DiffusersExportArgs:
    ckpt: str = MISSING          # training .ckpt or saved_models/<name>/ folder of a mel model
    out_dir: str = MISSING       # folder to write the pipeline into
    sampler: str | None = None   # ddim | ddpm scheduler in the pipeline; null = the model's configured sampler
    overwrite: bool = False      # replace a pipeline already in out_dir


def mel_component(mel: MelRepresentation) -> Mel:
    """diffusers' Mel with the representation's spectrogram settings (the pipeline's audio <-> image)."""
    return Mel(x_res=mel.x_res, y_res=mel.y_res, sample_rate=mel.sample_rate, n_fft=mel.n_fft,
               hop_length=mel.hop_length, top_db=mel.top_db, n_iter=mel.n_iter)


def exported_unet(backend: UNet2DBackend, sample_size: tuple[int, int]) -> UNet2DModel:
    """A standalone float32 copy of the UNet; `sample_size` (height, width) is what the pipeline samples."""
    unet = copy.deepcopy(backend.unet).cpu()
    if unet.dtype != torch.float32:  # e.g. a 16-true run; the pipeline's users expect float32
        unet = unet.float()
    unet = unet.to(memory_format=torch.contiguous_format)  # safetensors stores contiguous tensors only
    unet.register_to_config(sample_size=list(sample_size))
    return unet.eval()


def check_exportable(model: AudioDiffusionModule, mel: MelRepresentation | None,
                     vqvae: AutoencoderKL | None) -> tuple[UNet2DBackend, MelRepresentation]:
    backend, representation = model.backend, model.representation
    if not isinstance(backend, UNet2DBackend):
        raise ValueError(f"only UNet2D-backend models export as an AudioDiffusionPipeline; "
                         f"this one has a {type(backend).__name__} (model.backend)")
    mel = mel if mel is not None else representation
    if not isinstance(mel, MelRepresentation):
        raise ValueError(f"only mel-spectrogram models export as an AudioDiffusionPipeline; this one has a "
                         f"{type(representation).__name__} (model.representation) and no mel was given")
    if vqvae is None and mel is not representation:
        raise ValueError("a separate mel only makes sense with a vqvae (latent models)")
    return backend, mel


def export_audio_diffusion_pipeline(
    model: AudioDiffusionModule,
    out_dir: str | Path,
    vqvae: AutoencoderKL | None = None,
    mel: MelRepresentation | None = None,
    sampler: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `model` as an AudioDiffusionPipeline folder (unet, scheduler, mel, vqvae) and return it.

    Mel models need only `model`. Latent models (a UNet over autoencoder latents of mel images)
    pass their `vqvae` (an AutoencoderKL whose `scaling_factor` is the latent scale used in
    training) and the `mel` representation that makes the images the autoencoder sees.
    `sampler` picks the pipeline's scheduler (ddim | ddpm; default: the backend's sampler)."""
    backend, mel = check_exportable(model, mel, vqvae)
    out_dir = Path(out_dir)
    if (out_dir / PIPELINE_INDEX).exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already holds a pipeline; pass overwrite=true to replace it")
    sample_size = tuple(model.representation.tensor_shape()[1:])
    pipeline = AudioDiffusionPipeline(
        vqvae=vqvae,
        unet=exported_unet(backend, sample_size),
        mel=mel_component(mel),
        scheduler=backend.make_sampler(sampler),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(out_dir)
    return out_dir


def main(argv: list[str]) -> None:
    args = parse_cli(DiffusersExportArgs, argv)
    if args.sampler is not None:
        check_sampler(args.sampler, 0.0)  # before the (slow) model load
    model, _ = load_model(args.ckpt, "cpu")
    rep = model.representation
    # Latent models export their frozen VAE as the pipeline's vqvae, with the mel it decodes to.
    vqvae, mel = (rep.exportable_vae(), rep.mel) if isinstance(rep, LatentRepresentation) else (None, None)
    try:
        out_dir = export_audio_diffusion_pipeline(model, args.out_dir, vqvae=vqvae, mel=mel, sampler=args.sampler,
                                                  overwrite=args.overwrite)
    except ValueError as err:
        raise ValueError(f"{args.ckpt}: {err}") from err
    log.info("exported %s -> %s (load with DiffusionPipeline.from_pretrained)", args.ckpt, out_dir)


if __name__ == "__main__":
    run_cli(main)
