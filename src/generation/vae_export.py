"""Export a VAE checkpoint (from `python train.py exp=vae`) as a diffusers `AutoencoderKL` folder.

    python -m src.generation.vae_export ckpt=logs/vae/runs/<time>/checkpoints/last.ckpt out_dir=exports/my_vae

The folder loads offline with `AutoencoderKL.from_pretrained(out_dir)` and can be passed as
`model.vae=<out_dir>` to `exp=latent_diffusion`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from omegaconf import MISSING

from src.checkpoints.vae import load_vae_checkpoint
from src.utils.cli import parse_cli, run_cli

log = logging.getLogger(__name__)
VAE_CONFIG = "config.json"


@dataclass
class VAEExportArgs:
    ckpt: str = MISSING       # VAE training checkpoint (.ckpt)
    out_dir: str = MISSING    # folder to write the AutoencoderKL into
    overwrite: bool = False   # replace an AutoencoderKL already in out_dir


def export_vae(ckpt: str | Path, out_dir: str | Path, overwrite: bool = False) -> Path:
    """Write the checkpoint's AutoencoderKL (config.json + safetensors weights) into `out_dir`."""
    out_dir = Path(out_dir)
    if (out_dir / VAE_CONFIG).exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already holds a model; pass overwrite=true to replace it")
    vae, _ = load_vae_checkpoint(ckpt)
    out_dir.mkdir(parents=True, exist_ok=True)
    vae.save_pretrained(out_dir)
    return out_dir


def main(argv: list[str]) -> None:
    args = parse_cli(VAEExportArgs, argv)
    out_dir = export_vae(args.ckpt, args.out_dir, args.overwrite)
    log.info("exported %s -> %s (load with AutoencoderKL.from_pretrained)", args.ckpt, out_dir)


if __name__ == "__main__":
    run_cli(main)
