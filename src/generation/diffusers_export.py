"""Export a mel-family model as a diffusers `AudioDiffusionPipeline` folder (teticio/audio-diffusion layout).

    python -m src.generation.diffusers_export ckpt=<run>/checkpoints/last.ckpt out_dir=exports/my_mel
    python -m src.generation.diffusers_export ckpt=saved_models/<name> out_dir=exports/my_mel sampler=ddpm

The folder loads offline with `DiffusionPipeline.from_pretrained(out_dir)` and generates with
`pipeline(batch_size=..., steps=..., generator=...)`. The weights are the checkpoint's EMA
weights (what `load_model` puts into the model).

AudioDiffusionPipeline calls its UNet without class labels, so a class-conditional model is
written as its components instead (unet/ with its class embedding, scheduler/, mel/, vqvae/ for
latent models) plus `labels.json` (the vocabulary, the null label and the default guidance
scale); README shows the few lines that sample them with `class_labels`.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler, UNet2DModel
from diffusers.pipelines.deprecated.audio_diffusion import AudioDiffusionPipeline, Mel
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from omegaconf import MISSING

from src.generation.checkpoint import load_model
from src.models.diffusion_module import AudioDiffusionModule
from src.networks.unet2d import UNet2DNetwork
from src.processes.ddpm import DDPMProcess
from src.representations.latent import LatentRepresentation
from src.representations.mel import MelRepresentation
from src.utils.cli import parse_cli, run_cli

log = logging.getLogger(__name__)
PIPELINE_INDEX = "model_index.json"
LABELS_FILE = "labels.json"
# The pipeline's schedulers step on integer timesteps of the model's own DDPM schedule.
PIPELINE_SCHEDULERS: dict[str, type[SchedulerMixin]] = {"ddim": DDIMScheduler, "ddpm": DDPMScheduler}


def check_pipeline_sampler(sampler: str) -> None:
    if sampler not in PIPELINE_SCHEDULERS:
        raise ValueError(f"an AudioDiffusionPipeline samples with ddim or ddpm, not sampler={sampler}")


@dataclass
class DiffusersExportArgs:
    ckpt: str = MISSING          # training .ckpt or saved_models/<name>/ folder of a mel model
    out_dir: str = MISSING       # folder to write the pipeline into
    sampler: str | None = None   # ddim | ddpm scheduler in the pipeline; null = the model's sampler if one of them, else ddim
    overwrite: bool = False      # replace a pipeline already in out_dir


def mel_component(mel: MelRepresentation) -> Mel:
    """diffusers' Mel with the representation's spectrogram settings (the pipeline's audio <-> image)."""
    return Mel(x_res=mel.x_res, y_res=mel.y_res, sample_rate=mel.sample_rate, n_fft=mel.n_fft,
               hop_length=mel.hop_length, top_db=mel.top_db, n_iter=mel.n_iter)


def exported_unet(network: UNet2DNetwork, sample_size: tuple[int, int]) -> UNet2DModel:
    """A standalone float32 copy of the UNet; `sample_size` (height, width) is what the pipeline samples."""
    unet = copy.deepcopy(network.unet).cpu()
    if unet.dtype != torch.float32:  # e.g. a 16-true run; the pipeline's users expect float32
        unet = unet.float()
    unet = unet.to(memory_format=torch.contiguous_format)  # safetensors stores contiguous tensors only
    unet.register_to_config(sample_size=list(sample_size))
    return unet.eval()


def check_exportable(model: AudioDiffusionModule, mel: MelRepresentation | None,
                     vqvae: AutoencoderKL | None) -> tuple[UNet2DNetwork, MelRepresentation]:
    network, representation = model.network, model.representation
    if not isinstance(network, UNet2DNetwork):
        raise ValueError(f"only UNet2DModel networks export as an AudioDiffusionPipeline; "
                         f"this one has a {type(network).__name__} (model.network)")
    if not isinstance(model.process, DDPMProcess):
        raise ValueError(f"an AudioDiffusionPipeline runs DDPM/DDIM on integer timesteps: only model/process=ddpm "
                         f"models export to it, this one was trained with the {model.process.name} process")
    mel = mel if mel is not None else representation
    if not isinstance(mel, MelRepresentation):
        raise ValueError(f"only mel-spectrogram models export as an AudioDiffusionPipeline; this one has a "
                         f"{type(representation).__name__} (model.representation) and no mel was given")
    if vqvae is None and mel is not representation:
        raise ValueError("a separate mel only makes sense with a vqvae (latent models)")
    return network, mel


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
    `sampler` picks the pipeline's scheduler (ddim | ddpm; default: the model's, when it is one of them)."""
    network, mel = check_exportable(model, mel, vqvae)
    sampler = sampler or (model.sampler if model.sampler in PIPELINE_SCHEDULERS else "ddim")
    check_pipeline_sampler(sampler)
    out_dir = Path(out_dir)
    if ((out_dir / PIPELINE_INDEX).exists() or (out_dir / LABELS_FILE).exists()) and not overwrite:
        raise FileExistsError(f"{out_dir} already holds a pipeline; pass overwrite=true to replace it")
    sample_size = tuple(model.representation.tensor_shape()[1:])
    components = {
        "vqvae": vqvae,
        "unet": exported_unet(network, sample_size),
        "mel": mel_component(mel),
        "scheduler": PIPELINE_SCHEDULERS[sampler].from_config(model.process.scheduler.config),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    if model.labels:
        write_components(components, model, out_dir)
    else:
        AudioDiffusionPipeline(**components).save_pretrained(out_dir)
    return out_dir


def write_components(components: dict, model: AudioDiffusionModule, out_dir: Path) -> None:
    """A class-conditional model's pipeline parts, each in its own folder, and its vocabulary."""
    for name, component in components.items():
        if component is not None:
            component.save_pretrained(out_dir / name)
    labels = {"labels": list(model.labels), "null_label": len(model.labels), "cfg_scale": model.cfg_scale}
    (out_dir / LABELS_FILE).write_text(json.dumps(labels, indent=2) + "\n")


def main(argv: list[str]) -> None:
    args = parse_cli(DiffusersExportArgs, argv)
    if args.sampler is not None:
        check_pipeline_sampler(args.sampler)  # before the (slow) model load
    model, _ = load_model(args.ckpt, "cpu")
    rep = model.representation
    # Latent models export their frozen VAE as the pipeline's vqvae, with the mel it decodes to.
    vqvae, mel = (rep.exportable_vae(), rep.mel) if isinstance(rep, LatentRepresentation) else (None, None)
    try:
        out_dir = export_audio_diffusion_pipeline(model, args.out_dir, vqvae=vqvae, mel=mel, sampler=args.sampler,
                                                  overwrite=args.overwrite)
    except ValueError as err:
        raise ValueError(f"{args.ckpt}: {err}") from err
    if model.labels:
        log.info("exported the components of %s -> %s (a class-conditional model: see README for sampling them "
                 "with class_labels)", args.ckpt, out_dir)
    else:
        log.info("exported %s -> %s (load with DiffusionPipeline.from_pretrained)", args.ckpt, out_dir)


if __name__ == "__main__":
    run_cli(main)
