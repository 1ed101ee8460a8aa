"""Rebuild a model from a training checkpoint or an exported `saved_models/<name>/` folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import OmegaConf

from src.models.base import CONFIG_KEY
from src.models.diffusion_module import AudioDiffusionModule
from src.models.legacy import upgrade_checkpoint

EXPORTED_WEIGHTS = "model.ckpt"
EXPORTED_CONFIG = "config.yaml"


class CheckpointError(ValueError):
    """A checkpoint that this framework cannot rebuild a model from."""


def resolve_checkpoint_path(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / EXPORTED_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


def read_checkpoint(source: str | Path) -> dict[str, Any]:
    path = resolve_checkpoint_path(source)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, zip and runtime errors alike for bad files
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({err})") from err
    if not isinstance(checkpoint, dict) or CONFIG_KEY not in checkpoint or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path}: not a checkpoint of this framework (it holds no run config and weights)")
    return upgrade_checkpoint(checkpoint)


def load_model(source: str | Path, device: str | torch.device = "cpu") -> tuple[AudioDiffusionModule, dict]:
    """The model with the checkpoint's EMA weights (what `state_dict` holds), in eval mode, plus its config."""
    checkpoint = read_checkpoint(source)
    config = checkpoint[CONFIG_KEY]
    model = hydra.utils.instantiate(OmegaConf.create(config["model"]))
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"{source}: weights do not match the model its config describes ({err})") from err
    model.run_config = config
    return model.to(device).eval(), config
