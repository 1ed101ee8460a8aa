"""Fine-tuning from weights: `init_from=` starts a new run (new optimizer, step 0, its own folder)
from another model's weights.

Sources: one of our training checkpoints or `saved_models/` exports (their EMA weights), or a
local diffusers pipeline / UNet2DModel folder (`model.network.pretrained=` is the older spelling
of the same thing), or a tiny-audio-diffusion checkpoint (its EMA weights). A model is fine-tuned
in the representation and under the process it was trained with: where the experiment asks for
others, the source's are used and a warning says what changed; only a setting the user gives on
the command line wins, with a warning."""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict

from src.checkpoints.files import CONFIG_KEY, checked_checkpoint, resolve_checkpoint_path
from src.checkpoints.tad import is_tad_checkpoint, load_lightning_checkpoint, tad_weights
from src.training.fit_check import weight_mismatches

log = logging.getLogger(__name__)
MEL_KEYS = ("x_res", "y_res", "sample_rate", "n_fft", "hop_length", "top_db", "n_iter")


def command_line_keys() -> list[str]:
    """The config keys this run's command line sets (empty outside a Hydra app, as in tests)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return [override.split("=", 1)[0].lstrip("+~") for override in HydraConfig.get().overrides.task]


def _given(key: str, explicit: list[str]) -> bool:
    return any(given == key or given.startswith(key + ".") or key.startswith(given + ".") for given in explicit)


def adopt(cfg: DictConfig, key: str, value: Any, source: str, explicit: list[str]) -> None:
    """Set `key` to the source's `value` where the experiment differs, saying so; a key the user
    set on the command line keeps the user's value, with a warning."""
    current = OmegaConf.select(cfg, key)
    if OmegaConf.is_config(current):
        current = OmegaConf.to_container(current, resolve=True)
    if current == value:
        return
    group = key.replace("model.process", "model/process")
    if _given(key, explicit) or _given(group, explicit):
        log.warning("init_from=%s was trained with %s=%s; keeping %s=%s from the command line: the model is "
                    "fine-tuned on settings it was not trained with", source, key, value, key, current)
        return
    log.warning("init_from=%s: %s=%s (the experiment's %s is not used: a model is fine-tuned as it was trained)",
                source, key, value, current)
    with open_dict(cfg):
        OmegaConf.update(cfg, key, value, merge=False)


def prepare(cfg: DictConfig) -> dict | None:
    """Before the model is built: the source's settings into `cfg`; returns what `load_weights` needs."""
    source = cfg.get("init_from") or OmegaConf.select(cfg, "model.network.pretrained")
    if not source:
        return None
    if cfg.get("ckpt"):
        raise ValueError("init_from starts a new run from weights and ckpt= resumes a run: give one of them")
    path = Path(str(source)).expanduser()
    explicit = command_line_keys()
    if path.is_dir() and not (path / "model.ckpt").is_file():
        _prepare_diffusers_folder(cfg, path, explicit)
        return None  # the UNet2D network loads the folder's weights itself
    file = resolve_checkpoint_path(path)  # an export folder's model.ckpt
    loaded = load_lightning_checkpoint(file)  # read once, whichever kind it is
    if is_tad_checkpoint(loaded):
        return _prepare_tad(cfg, path, loaded, explicit)
    checkpoint = checked_checkpoint(loaded, file)
    model = checkpoint[CONFIG_KEY]["model"]
    adopt(cfg, "audio", checkpoint[CONFIG_KEY]["audio"], str(path), explicit)
    for key in ("representation", "process"):
        adopt(cfg, f"model.{key}", with_defaults(model[key]), str(path), explicit)
    return {"source": str(path), "state_dict": checkpoint["state_dict"], "labels": list(model.get("labels") or [])}


def with_defaults(settings: dict) -> dict:
    """A source's `_target_` settings, completed with the class's defaults for arguments added since it
    was trained (such as `mdct_low_bands` or `cosine_spacing`): the source ran without them, which is
    what the defaults mean, and the experiment's other settings may refer to them."""
    target = settings.get("_target_")
    if not target:
        return settings
    parameters = inspect.signature(get_class(target)).parameters.values()
    missing = {p.name: p.default for p in parameters
               if p.name not in settings and p.default is not inspect.Parameter.empty}
    return {**settings, **missing}


def _prepare_tad(cfg: DictConfig, path: Path, checkpoint: dict, explicit: list[str]) -> dict:
    """A tiny-audio-diffusion checkpoint: its EMA UNetV0 weights, on raw samples under v-diffusion as it
    was trained. Its audio settings live in its yaml, not in the checkpoint: the experiment's apply
    (python -m src.generation.import_tad reads them from the yaml)."""
    if "position_features" not in cfg.model.network:
        raise ValueError(f"init_from={path} is a tiny-audio-diffusion (UNetV0) checkpoint: use a waveform experiment "
                         "such as exp=drum_diffusion")
    state = tad_weights(checkpoint, "ema", path)
    adopt(cfg, "model.process", {"_target_": "src.processes.v_cosine.VCosineProcess"}, str(path), explicit)
    for key, value in (("model.representation.scale", 1.0), ("model.representation.mu_law", 0.0),
                       ("model.representation.mdct_bands", 0), ("model.representation.mdct_low_bands", 0),
                       ("model.representation.mdct_low_sub_bands", 0), ("model.network.position_features", 0),
                       ("model.network.patch_size", 1), ("model.network.input_gain", False),
                       ("model.network.gate", False), ("model.network.level_features", False)):
        adopt(cfg, key, value, str(path), explicit)
    return {"source": str(path), "state_dict": {f"network.net.{key}": value for key, value in state.items()},
            "labels": []}


def _prepare_diffusers_folder(cfg: DictConfig, folder: Path, explicit: list[str]) -> None:
    """A pipeline or UNet2DModel folder: its UNet (and a pipeline's scheduler, for ddpm) replace the
    experiment's, and a pipeline's mel settings replace the representation's."""
    if "unet" not in cfg.model.network:
        raise ValueError(f"init_from={folder} is a diffusers folder: it fine-tunes a UNet2D model (mel or latent "
                         f"family), not {cfg.model.network._target_}")
    with open_dict(cfg):
        cfg.model.network.pretrained = str(folder)
        if "DDPMProcess" in str(cfg.model.process.get("_target_", "")):
            cfg.model.process.pretrained = str(folder)
    mel_config = folder / "mel" / "mel_config.json"
    if not mel_config.is_file() or "x_res" not in cfg.model.representation:
        return
    mel = json.loads(mel_config.read_text())
    for key in MEL_KEYS:
        if key in mel:
            adopt(cfg, f"model.representation.{key}", mel[key], str(folder), explicit)
    rep = cfg.model.representation
    adopt(cfg, "audio.sample_rate", rep.sample_rate, str(folder), explicit)
    adopt(cfg, "audio.length", rep.x_res * rep.hop_length - 1, str(folder), explicit)


def load_weights(model: torch.nn.Module, prepared: dict | None) -> None:
    """After the model is built: the source's weights, every shape checked. A class embedding is
    matched by label name: labels the source knew keep their vectors, new ones start fresh (and
    train with the rest), and the null label keeps the source's."""
    if prepared is None:
        return
    own = model.state_dict()
    state = _onto_adapted_layers(dict(prepared["state_dict"]), own)
    _match_class_embedding(state, own, prepared["labels"], list(getattr(model, "labels", ())), prepared["source"])
    problems = weight_mismatches(own, state)
    if problems:
        raise ValueError(f"init_from={prepared['source']}: its weights do not fit this model ({problems[0]}"
                         f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''}); the network settings "
                         "must be the source's")
    model.load_state_dict(state)
    log.info("init_from=%s: started from its weights (a new run: new optimizer, step 0)", prepared["source"])


def _onto_adapted_layers(state: dict, own: dict) -> dict:
    """Base weights onto a network with LoRA adapters: a layer's weight lives under `base_layer`
    there, and the adapters (not in the source) keep their fresh start."""
    for key in own:
        plain = key.replace(".base_layer.", ".")
        if plain != key and plain in state:
            state[key] = state.pop(plain)
        elif "lora_" in key:
            state[key] = own[key]
    return state


def _match_class_embedding(state: dict, own: dict, old: list[str], new: list[str], source: str) -> None:
    if old and not new:
        raise ValueError(f"init_from={source} is class-conditional (labels {old}) but this run has no labels: set "
                         "datamodule.dataset.labels, so its class embedding keeps meaning something")
    for key in [k for k in own if k.endswith("class_embedding.weight")]:
        if key not in state and not old:
            state[key] = own[key]  # an unconditional source: the embedding starts fresh
            log.warning("init_from=%s has no labels: the class embedding for %s starts untrained", source, new)
            continue
        if key not in state or old == new:
            continue
        weight = own[key].clone()
        for index, name in enumerate(new):
            if name in old:
                weight[index] = state[key][old.index(name)]
        weight[len(new)] = state[key][len(old)]  # the null label
        state[key] = weight
        fresh = [name for name in new if name not in old]
        log.warning("init_from=%s knew the labels %s; %s start untrained", source, old, fresh or "none")
