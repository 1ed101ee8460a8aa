"""The AutoencoderKL inside a checkpoint of `exp=vae` (a VAEModule), for latent models and exports."""

from __future__ import annotations

from pathlib import Path

from diffusers import AutoencoderKL

from src.checkpoints.files import CONFIG_KEY, CheckpointError, read_checkpoint
from src.checkpoints.trusted import instantiate_trusted
from src.utils.diffusers_config import plain_config

VAE_MODULE = "VAEModule"  # the class name a VAE checkpoint's model config has as its target
VAE_PREFIX = "vae."  # where the AutoencoderKL's weights sit in a VAEModule's state_dict


def vae_downsampling(vae: AutoencoderKL) -> int:
    """Total spatial downsampling of an AutoencoderKL: every level but the last halves the size."""
    return 2 ** (len(vae.config.block_out_channels) - 1)


def load_vae_checkpoint(path: str | Path) -> tuple[AutoencoderKL, dict]:
    """The AutoencoderKL of a VAEModule checkpoint (the weights its `state_dict` holds), plus the
    config of the MelRepresentation it was trained on. ValueError if it is not a VAE checkpoint."""
    checkpoint = read_checkpoint(path)
    model_config = checkpoint[CONFIG_KEY].get("model", {})
    target = model_config.get("_target_", "")
    if target.rsplit(".", 1)[-1] != VAE_MODULE or "vae" not in model_config:
        raise CheckpointError(f"{path}: a checkpoint of {target or 'an unknown model'}, not a VAE "
                              "(train one with `python train.py exp=vae`)")
    vae = instantiate_trusted(model_config["vae"], str(path), "model.vae")
    if not isinstance(vae, AutoencoderKL):
        raise CheckpointError(f"{path}: model.vae builds a {type(vae).__name__}, not a diffusers AutoencoderKL")
    plain_config(vae)
    weights = {k[len(VAE_PREFIX):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(VAE_PREFIX)}
    try:
        vae.load_state_dict(weights)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: VAE weights do not match the VAE its config describes ({err})") from err
    return vae.eval(), dict(model_config.get("representation", {}))
