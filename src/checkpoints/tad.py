"""tiny-audio-diffusion checkpoints: a PyTorch Lightning 1.x `.ckpt` of its `Model` (an ADP
DiffusionModel under v-diffusion, with an ema_pytorch EMA of it) plus the experiment `.yaml` it was
trained with. Both are strangers' files: the yaml is read as data (it holds `${module}.UNetT` and an
unresolved `${logs_dir}`, and is never instantiated), the checkpoint with `weights_only=True`."""

from __future__ import annotations

import pathlib
from pathlib import Path
from typing import Any

import torch
import yaml

from src.checkpoints.files import CheckpointError

# The UNetV0 settings tiny-audio-diffusion's yaml sets under model.model, as our network names them.
NETWORK_KEYS = ("channels", "factors", "items", "attentions", "attention_heads", "attention_features")
# Where each layout keeps the UNet's weights: the EMA copy (ema_pytorch's ema_model), or the
# online model. Old ema_pytorch versions also saved `model_ema.online_model.*`; it is not read.
PREFIXES = {"ema": "model_ema.ema_model.net.", "online": "model.net."}
# Plain Python objects Lightning 1.x wrote into checkpoints besides tensors (callback paths).
SAFE_GLOBALS = [pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath, pathlib.PureWindowsPath]


def read_tad_settings(config_path: str | Path) -> dict[str, Any]:
    """The audio and network settings of a tiny-audio-diffusion experiment yaml, as plain data."""
    path = Path(config_path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise CheckpointError(f"config={path}: not a readable yaml ({err})") from err
    model = ((data or {}).get("model") or {}).get("model") or {}
    net = str((model.get("net_t") or {}).get("_target_", ""))
    if not net.endswith(".UNetT") or not model:
        raise CheckpointError(
            f"config={path}: model.model.net_t is {net or 'missing'}; only tiny-audio-diffusion's plain UNetT "
            "(UNetV0) can be rebuilt here (UNetT_LT's learned transform and other networks cannot)")
    missing = [key for key in ("sampling_rate", "length", "channels") if key not in data]
    missing += [f"model.model.{key}" for key in ("in_channels", *NETWORK_KEYS) if key not in model]
    if missing:
        raise CheckpointError(f"config={path}: missing {', '.join(missing)}")
    loudness = ((data.get("datamodule") or {}).get("dataset") or {}).get("transforms", {}) or {}
    return {"sample_rate": int(data["sampling_rate"]), "length": int(data["length"]), "channels": int(data["channels"]),
            "in_channels": int(model["in_channels"]), "network": {key: model[key] for key in NETWORK_KEYS},
            "loudness": loudness.get("loudness")}


def load_lightning_checkpoint(ckpt_path: str | Path) -> dict[str, Any]:
    """A Lightning checkpoint of any origin as a dict, read with `weights_only=True` and the few plain
    globals Lightning 1.x wrote besides tensors; anything else is a CheckpointError."""
    path = Path(ckpt_path)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises pickle, zip and runtime errors alike for foreign files
        raise CheckpointError(f"ckpt={path}: cannot be read safely as a checkpoint ({err})") from err
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"ckpt={path}: no state_dict; not a PyTorch Lightning checkpoint")
    return checkpoint


def is_tad_checkpoint(checkpoint: dict[str, Any]) -> bool:
    """EMA weights in tiny-audio-diffusion's layout, and no config of ours."""
    return "config" not in checkpoint and any(key.startswith(PREFIXES["ema"]) for key in checkpoint["state_dict"])


def tad_weights(checkpoint: dict[str, Any], weights: str = "ema", source: str | Path = "") -> dict[str, torch.Tensor]:
    """The UNetV0 state dict (keys of audio-diffusion-pytorch's UNetV0) of a loaded checkpoint."""
    if weights not in PREFIXES:
        raise ValueError(f"weights must be one of {', '.join(PREFIXES)}, got {weights!r}")
    state, prefix = checkpoint["state_dict"], PREFIXES[weights]
    found = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    if not found:
        have = sorted({".".join(key.split(".")[:3]) for key in state})[:6]
        raise CheckpointError(f"ckpt={source}: no {weights} weights under {prefix}* (it has {', '.join(have)}, ...); "
                              "is it a tiny-audio-diffusion checkpoint?")
    return found


def read_tad_weights(ckpt_path: str | Path, weights: str = "ema") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(UNetV0 state dict with the keys of audio-diffusion-pytorch's UNetV0, checkpoint facts)."""
    checkpoint = load_lightning_checkpoint(ckpt_path)
    facts = {"global_step": checkpoint.get("global_step"), "epoch": checkpoint.get("epoch"),
             "lightning": checkpoint.get("pytorch-lightning_version")}
    return tad_weights(checkpoint, weights, ckpt_path), facts
