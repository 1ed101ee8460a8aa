"""Checkpoint and export files: where they are, and their contents read without running code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from src.checkpoints.legacy import upgrade_checkpoint

CONFIG_KEY = "config"  # where the composed run config lives inside every checkpoint
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
    """A checkpoint's dict, loaded with `weights_only=True` (tensors and plain data only: a file
    cannot run code while it is read), in today's layout."""
    path = resolve_checkpoint_path(source)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, zip and runtime errors alike for bad files
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({err})") from err
    return checked_checkpoint(checkpoint, path)


def checked_checkpoint(checkpoint: Any, path: str | Path) -> dict[str, Any]:
    """An already loaded checkpoint, checked to be one of this framework's, in today's layout."""
    if not isinstance(checkpoint, dict) or CONFIG_KEY not in checkpoint or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path}: not a checkpoint of this framework (it holds no run config and weights)")
    return upgrade_checkpoint(checkpoint)
