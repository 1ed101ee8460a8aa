"""Unconditional sampling from a checkpoint into WAV + PNG + a JSON manifest."""

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
from src.generation.checkpoint import load_model

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
    length: int | None = None       # samples per clip; null = the training length


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name} asks for a GPU but no CUDA GPU is visible; use device=cpu or auto")
    return device


def generate(args: GenerateArgs) -> Path:
    """Sample `num_samples` clips; noise comes from one seeded CPU generator, so the audio
    depends on the seed only (not on batch size or device)."""
    if args.num_samples < 1 or args.batch_size < 1 or args.steps < 1:
        raise ValueError("num_samples, batch_size and steps must be at least 1")
    device = pick_device(args.device)
    model, config = load_model(args.ckpt, device)
    rate = model.representation.sample_rate
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    files, started = [], time.perf_counter()
    for first in tqdm(range(0, args.num_samples, args.batch_size), desc="batches", unit="batch"):
        count = min(args.batch_size, args.num_samples - first)
        audio = model.generate(count, steps=args.steps, generator=generator, length=args.length)
        for offset, clip in enumerate(audio.cpu()):
            stem = f"sample_{first + offset:03d}"
            write_wav(out_dir / f"{stem}.wav", clip, rate)
            save_spectrogram_png(out_dir / f"{stem}.png", clip, rate)
            files.append(f"{stem}.wav")
    write_manifest(out_dir, args, config, files, rate, device, time.perf_counter() - started)
    log.info("wrote %d clips to %s", len(files), out_dir)
    return out_dir


def write_manifest(out_dir: Path, args: GenerateArgs, config: dict, files: list[str], rate: int,
                   device: torch.device, seconds: float) -> None:
    manifest = {
        "mode": "unconditional",
        "parameters": OmegaConf.to_container(OmegaConf.structured(args)),
        "checkpoint": str(Path(args.ckpt).resolve()),
        "experiment": config.get("task_name"),
        "sample_rate": rate,
        "device": str(device),
        "seconds": round(seconds, 3),
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
