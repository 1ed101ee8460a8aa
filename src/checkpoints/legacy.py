"""Checkpoints and exports from before the process layer, mapped onto today's names in one place.

Until then a model had a `backend` that tied a network to its objective and sampler:
`src.backends.v_diffusion.VDiffusionBackend` (ADP's UNetV0 under v-diffusion, weights under
`backend.model.net.*`) or `src.backends.unet2d.UNet2DBackend` (a UNet2DModel with a diffusers
DDPMScheduler, weights under `backend.unet.*`). Both become a network plus a process."""

from __future__ import annotations

import copy
import logging
from typing import Any

log = logging.getLogger(__name__)

V_DIFFUSION = "src.backends.v_diffusion.VDiffusionBackend"
UNET2D = "src.backends.unet2d.UNet2DBackend"
# Old state-dict prefixes -> new ones. ADP's DiffusionModel also registered its net under its
# diffusion and sampler objects: those are the same tensors, dropped.
RENAMES = (("backend.model.net.", "network.net."), ("backend.unet.", "network.unet."))
DROPPED = ("backend.model.diffusion.", "backend.model.sampler.")


def is_legacy(model_config: dict[str, Any]) -> bool:
    return "backend" in model_config


def _v_diffusion(backend: dict[str, Any]) -> dict[str, Any]:
    network = {key: value for key, value in backend.items() if key != "_target_"}
    return {"network": {"_target_": "src.networks.unetv0.UNetV0Network", **network},
            "process": {"_target_": "src.processes.v_cosine.VCosineProcess"}, "sampler": "ddim", "eta": None}


def _unet2d(backend: dict[str, Any]) -> dict[str, Any]:
    scheduler = {key: value for key, value in backend.get("scheduler", {}).items() if key != "_target_"}
    network = {"_target_": "src.networks.unet2d.UNet2DNetwork", "unet": backend.get("unet"),
               "gradient_checkpointing": backend.get("gradient_checkpointing", False),
               "channels_last": backend.get("channels_last", False), "pretrained": backend.get("pretrained")}
    eta = backend.get("eta") or None
    # An old ddim sampler with eta > 0 was DDIM's stochastic form: the ancestral sampler now.
    sampler = backend.get("sampler", "ddim")
    return {"network": network,
            "process": {"_target_": "src.processes.ddpm.DDPMProcess", **scheduler,
                        "pretrained": backend.get("pretrained")},
            "sampler": "ancestral" if sampler == "ddim" and eta else sampler, "eta": eta}


def upgrade_model_config(model_config: dict[str, Any]) -> dict[str, Any]:
    """A model config with `backend` rewritten as network + process + sampler (a copy; others unchanged)."""
    if not is_legacy(model_config):
        return model_config
    config = copy.deepcopy(dict(model_config))
    backend = config.pop("backend")
    target = backend.get("_target_")
    if target == V_DIFFUSION:
        config.update(_v_diffusion(backend))
    elif target == UNET2D:
        config.update(_unet2d(backend))
    else:
        raise ValueError(f"model.backend._target_={target!r} is not a backend this version can map "
                         f"(known: {V_DIFFUSION}, {UNET2D})")
    return config


def upgrade_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """Old weight names -> new ones (a new dict; new-style names pass through)."""
    upgraded = {}
    for name, value in state.items():
        if name.startswith(DROPPED):
            continue
        for old, new in RENAMES:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        upgraded[name] = value
    return upgraded


def upgrade_checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Upgrade in place the weights (current and EMA) and the stored config of a checkpoint."""
    for key in ("state_dict", "current_model_state"):
        if key in checkpoint:
            checkpoint[key] = upgrade_state_dict(checkpoint[key])
    config = checkpoint.get("config")
    if isinstance(config, dict) and isinstance(config.get("model"), dict) and is_legacy(config["model"]):
        log.info("checkpoint from before the process layer: mapping model.backend onto network + process")
        checkpoint["config"] = {**config, "model": upgrade_model_config(config["model"])}
    return checkpoint
