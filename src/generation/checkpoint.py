"""Rebuild a diffusion model from a training checkpoint or an exported `saved_models/<name>/` folder."""

from __future__ import annotations

from pathlib import Path

import torch

from src.checkpoints.files import CONFIG_KEY, CheckpointError, read_checkpoint
from src.checkpoints.trusted import instantiate_trusted
from src.models.diffusion_module import AudioDiffusionModule


def load_model(source: str | Path, device: str | torch.device = "cpu") -> tuple[AudioDiffusionModule, dict]:
    """The model with the checkpoint's EMA weights (what `state_dict` holds), in eval mode, plus its
    config. The model is rebuilt only from allowlisted classes (src/checkpoints/trusted.py)."""
    checkpoint = read_checkpoint(source)
    config = checkpoint[CONFIG_KEY]
    model = instantiate_trusted(config["model"], str(source))
    if not isinstance(model, AudioDiffusionModule):
        raise CheckpointError(f"{source}: a checkpoint of {type(model).__name__}, not a diffusion model")
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"{source}: weights do not match the model its config describes ({err})") from err
    model.run_config = config
    return model.to(device).eval(), config
