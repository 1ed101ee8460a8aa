"""generate.py: sampling and the generation modes, into WAV + PNG + a JSON manifest."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import MISSING, OmegaConf
from tqdm import tqdm

from src.audio.io import write_wav
from src.audio.spectrogram import save_spectrogram_png
from src.generation.adapters import apply_adapter
from src.generation.checkpoint import load_model
from src.generation.modes.runners import NO_LABEL, mode_sampler, run_mode
from src.models.diffusion_module import AudioDiffusionModule
from src.representations.mel import save_mel_png
from src.samplers.base import check_eps_scaling

log = logging.getLogger(__name__)


@dataclass
class GenerateArgs:
    ckpt: str = MISSING             # a training .ckpt or a saved_models/<name>/ folder
    num_samples: int = 4            # clips to generate
    steps: int = 50                 # sampling steps (more: slower, usually cleaner)
    seed: int = 0                   # same seed -> same audio
    batch_size: int = 4             # clips sampled at once
    out_dir: str = "outputs/generated"
    device: str = "auto"            # auto | cpu | cuda | cuda:N
    length: int | None = None       # samples per clip (mode=sample); null = the training length
    sampler: str | None = None      # ddim | euler | heun | dpmpp_2m | ancestral | ddpm (default: the model's; other modes: ddim)
    eta: float | None = None        # ancestral sampler noise: 0 deterministic, 1 ancestral (default: the model's)
    eps_scaling: float | None = None  # exposure-bias correction c: each predicted noise divided by 1 + c / steps; 0 = off (default: the model's)
    mode: str = "sample"            # sample | variation | inpaint | continue | interpolate
    init_audio: str | None = None   # input file (any rate/channels; cropped or zero-padded to the model's length)
    init_audio2: str | None = None  # second input (interpolate)
    strength: float = 0.5           # variation: 0 returns the input, 1 ignores it
    keep: list | None = None        # inpaint: [[start, end], ...] seconds to keep; the rest is regenerated
    mask_start_secs: float = 0.0    # inpaint: keep this many seconds from the start (teticio's option)
    mask_end_secs: float = 0.0      # inpaint: keep this many seconds at the end
    resample: int = 1               # RePaint jumps per step for inpaint/continue/loop (more: smoother seams, slower)
    segments: int = 2               # continue: windows to add
    overlap: float = 0.25           # continue: seconds of context each new window is outpainted from
    crossfade: float = 0.02         # continue: seconds of crossfade at each join
    loop: bool = False              # make each output loop seamlessly
    loop_seam: float = 0.1          # seconds regenerated around the loop point
    label: str | None = None        # class to make (conditional models): a label name, all (num_samples per label), any (each clip's label drawn at random), or null (unconditional)
    label2: str | None = None       # interpolate: the class of the second end (default: label)
    adapter: str | None = None      # a LoRA adapter file to sample the checkpoint with (python -m src.generation.adapters)
    cfg_scale: float | None = None  # classifier-free guidance for label: 0 ignores it, 1 conditional, >1 stronger (default: the model's)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name} asks for a GPU but no CUDA GPU is visible; use device=cpu or auto")
    return device


def describe_sampling(args: GenerateArgs, model: AudioDiffusionModule) -> dict[str, object]:
    """Log the process and sampler, with `steps` as steps and as network evaluations per clip."""
    sampler = model.make_sampler(args.sampler, args.eta) if args.mode == "sample" else mode_sampler(args, model)
    scale = model.cfg_scale if args.cfg_scale is None else args.cfg_scale
    # guidance runs the network with the label and with the null label at every evaluation
    guided = bool(model.labels) and args.label not in NO_LABEL and scale not in (0.0, 1.0)
    info = {"process": model.process.describe(), "sampler": sampler.name, "steps": args.steps,
            "network_evaluations_per_clip": sampler.evaluations(args.steps) * (2 if guided else 1),
            "cfg_scale": scale if model.labels else None, "eps_scaling": model.eps_scaling}
    log.info("%s, sampler %s: %d steps = %d network evaluations per clip", info["process"], info["sampler"],
             args.steps, info["network_evaluations_per_clip"])
    return info


def generate(args: GenerateArgs, loaded: tuple[AudioDiffusionModule, dict] | None = None) -> Path:
    """Run `args.mode` and write its clips; every random draw comes from one CPU generator
    seeded with `args.seed`, so the same arguments give the same audio. `loaded` is the model and
    config of `args.ckpt` when the caller already holds them (the studio)."""
    if args.num_samples < 1 or args.batch_size < 1 or args.steps < 1:
        raise ValueError("num_samples, batch_size and steps must be at least 1")
    device = pick_device(args.device)
    model, config = loaded if loaded is not None else load_model(args.ckpt, device)
    if args.adapter:
        model = apply_adapter(model, args.adapter)
    if args.eps_scaling is not None:
        model.eps_scaling = check_eps_scaling(args.eps_scaling)
    device = model.device
    sampling = describe_sampling(args, model)
    rate = model.representation.sample_rate
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.perf_counter()
    clips, images, labels = run_mode(args, model, generator)
    files = []
    for index, (clip, image, label) in enumerate(tqdm(list(zip(clips, images, labels)), desc="writing", unit="clip")):
        stem = f"sample_{index:03d}" if label is None else f"sample_{index:03d}_{label}"
        write_wav(out_dir / f"{stem}.wav", clip, rate)
        save_spectrogram_png(out_dir / f"{stem}.png", clip, rate)
        if image is not None:  # mel models: the generated mel image itself
            save_mel_png(out_dir / f"{stem}_mel.png", image)
        files.append(f"{stem}.wav")
    sampling["labels"] = labels
    write_manifest(out_dir, args, config, files, rate, device, time.perf_counter() - started, sampling)
    log.info("wrote %d clips to %s", len(files), out_dir)
    return out_dir


def write_manifest(out_dir: Path, args: GenerateArgs, config: dict, files: list[str], rate: int,
                   device: torch.device, seconds: float, sampling: dict[str, object]) -> None:
    manifest = {
        "mode": args.mode,
        "sampling": sampling,
        "parameters": OmegaConf.to_container(OmegaConf.structured(args)),
        "checkpoint": str(Path(args.ckpt).resolve()),
        "inputs": [str(Path(p).resolve()) for p in (args.init_audio, args.init_audio2) if p],
        "experiment": config.get("task_name"),
        "sample_rate": rate,
        "device": str(device),
        "seconds": round(seconds, 3),
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
