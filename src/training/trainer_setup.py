"""Turns the `trainer` config into Lightning 2 arguments, including the removed `gpus` flag."""

from __future__ import annotations

import logging
from typing import Any

import torch

log = logging.getLogger(__name__)

HALF_PRECISIONS = {"16", "16-mixed", "16-true"}


class DeviceConfigError(ValueError):
    """A device request this machine cannot satisfy; the message says which setting to change."""


def translate_gpus(trainer_cfg: dict[str, Any], cuda_count: int | None = None) -> dict[str, Any]:
    """Map Lightning 1's `gpus` onto `accelerator` + `devices`, and check GPU requests.

    gpus: null keeps accelerator/devices as given; 0 means CPU; N > 0 means N GPUs;
    -1 means every GPU; a list picks GPU indices. 16-bit precision is GPU-only, so on a
    CPU run it falls back to 32-bit with a warning instead of failing."""
    cfg = dict(trainer_cfg)
    gpus = cfg.pop("gpus", None)
    cuda_count = torch.cuda.device_count() if cuda_count is None else cuda_count
    if gpus is not None:
        cfg.update(_gpus_to_devices(gpus, cuda_count))
    accelerator = str(cfg.get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda") and cuda_count == 0:
        raise DeviceConfigError(
            f"trainer.accelerator={accelerator} asks for a GPU but no CUDA GPU is visible on this machine; "
            "use trainer.gpus=0 (or trainer.accelerator=cpu) to train on the CPU"
        )
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and cuda_count == 0)
    if on_cpu and str(cfg.get("precision", "32-true")) in HALF_PRECISIONS:
        log.warning("trainer.precision=%s needs a GPU; training on the CPU in 32-bit instead", cfg["precision"])
        cfg["precision"] = "32-true"
    return cfg


def _gpus_to_devices(gpus: int | str | list[int], cuda_count: int) -> dict[str, Any]:
    if isinstance(gpus, str):
        gpus = int(gpus) if gpus.lstrip("-").isdigit() else gpus
    if gpus == 0:
        return {"accelerator": "cpu", "devices": "auto"}
    wanted = len(gpus) if isinstance(gpus, (list, tuple)) else gpus
    if not isinstance(wanted, int) or wanted < -1:
        raise DeviceConfigError(f"trainer.gpus must be an integer >= -1 or a list of GPU indices, got {gpus!r}")
    if cuda_count == 0:
        raise DeviceConfigError(
            f"trainer.gpus={gpus} asks for a GPU but no CUDA GPU is visible on this machine; "
            "use trainer.gpus=0 to train on the CPU"
        )
    if wanted > cuda_count:
        raise DeviceConfigError(f"trainer.gpus={gpus} asks for {wanted} GPUs but this machine has {cuda_count}")
    return {"accelerator": "gpu", "devices": list(gpus) if isinstance(gpus, (list, tuple)) else gpus}
