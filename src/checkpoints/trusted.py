"""Rebuilding objects from a config that came out of a file, through an allowlist.

Checkpoints and exports are shared, and their stored config names the classes to build
(`_target_`). Hydra would call any importable callable it finds there, such as
`pathlib.Path.write_text`, so a file's config is checked before anything in it is instantiated:
every `_target_` must be one of the classes below or one the user trusts explicitly, and no value
may hold an interpolation (a stored config is resolved when it is saved; `${...}` in it could only
call a resolver). Only the user adds to the allowlist, never a file: with
`TRUSTED_TARGETS=pkg.module.Class,otherpkg.` in the environment (a trailing dot trusts a whole
package) or `trust_targets(...)` in their own code."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import hydra
from omegaconf import OmegaConf

from src.checkpoints.files import CheckpointError

TRUSTED_TARGETS_ENV = "TRUSTED_TARGETS"
PROJECT_TARGETS = frozenset({
    "src.models.diffusion_module.AudioDiffusionModule",
    "src.models.latent_module.LatentDiffusionModule",
    "src.models.vae_module.VAEModule",
    "src.representations.waveform.WaveformRepresentation",
    "src.representations.mel.MelRepresentation",
    "src.representations.latent.LatentRepresentation",
    "src.networks.unetv0.UNetV0Network",
    "src.networks.unet2d.UNet2DNetwork",
    "src.processes.v_cosine.VCosineProcess",
    "src.processes.edm.EDMProcess",
    "src.processes.rectified_flow.RectifiedFlowProcess",
    "src.processes.ddpm.DDPMProcess",
    "src.processes.weighting.SpectralLevelWeighting",
    # data modules, which benchmarks rebuild from a run's config to find its training clips
    "src.data.datamodule.AudioDataModule",
    "src.data.latent_cache.LatentCacheDataModule",
    "src.data.audio_folder.AudioFolderSpec",
    "src.data.mel_image_folder.MelImageFolderSpec",
})
LIBRARY_TARGETS = frozenset({
    "diffusers.AutoencoderKL",
    "diffusers.UNet2DModel",
    "diffusers.DDPMScheduler",
    "diffusers.optimization.get_cosine_schedule_with_warmup",
    "diffusers.optimization.get_constant_schedule_with_warmup",
    "diffusers.optimization.get_linear_schedule_with_warmup",
    "diffusers.optimization.get_constant_schedule",
    "audio_diffusion_pytorch.UNetV0",
})
# Optimizers and LR schedulers only build objects around parameters; every one is harmless.
LIBRARY_PREFIXES = ("torch.optim.",)
_user_targets: set[str] = set()


def trust_targets(names: Iterable[str]) -> None:
    """Allow these `_target_`s (a name ending in '.' allows everything under it) in this process."""
    _user_targets.update(name.strip() for name in names if name.strip())


def user_targets() -> set[str]:
    from_env = os.environ.get(TRUSTED_TARGETS_ENV, "")
    return _user_targets | {name.strip() for name in from_env.split(",") if name.strip()}


def is_trusted(target: str) -> bool:
    if target in PROJECT_TARGETS or target in LIBRARY_TARGETS or target.startswith(LIBRARY_PREFIXES):
        return True
    return any(target == name or (name.endswith(".") and target.startswith(name)) for name in user_targets())


def _walk(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{where}.{key}")
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}[{i}]")


def check_trusted(config: Any, source: str, where: str = "model") -> None:
    """CheckpointError naming the first untrusted `_target_` or interpolation in `config`."""
    for path, node in _walk(config, where):
        if isinstance(node, str) and "${" in node:
            raise CheckpointError(f"{source}: refused to load: {path} holds an interpolation ({node!r}); "
                                  "stored configs are resolved when saved")
        if not isinstance(node, dict) or "_target_" not in node:
            continue
        target = node["_target_"]
        if not isinstance(target, str) or not is_trusted(target):
            raise CheckpointError(
                f"{source}: refused to load: {path}._target_={target!r} is not a class this framework "
                f"builds; if it is your own code, trust it with {TRUSTED_TARGETS_ENV}={target}")


def instantiate_trusted(config: dict, source: str, where: str = "model") -> Any:
    """`hydra.utils.instantiate(config)` after `check_trusted`: nothing runs if anything is refused."""
    check_trusted(config, source, where)
    return hydra.utils.instantiate(OmegaConf.create(config))
