"""Export a run's checkpoint as `saved_models/<name>/` (EMA weights + config only).

    python -m src.generation.export ckpt=logs/drum_diffusion/runs/<time>/checkpoints/last.ckpt name=my_drums
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import MISSING, OmegaConf

from src.checkpoints.files import CONFIG_KEY, EXPORTED_CONFIG, EXPORTED_WEIGHTS, read_checkpoint, resolve_checkpoint_path
from src.checkpoints.trusted import check_trusted
from src.generation.adapters import apply_adapter
from src.generation.checkpoint import load_model
from src.networks.adapters import merge_lora
from src.utils.cli import parse_cli, run_cli

log = logging.getLogger(__name__)
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "saved_models"


@dataclass
class ExportArgs:
    ckpt: str = MISSING       # training checkpoint (.ckpt)
    name: str = MISSING       # folder name under out_root
    adapter: str | None = None  # a LoRA adapter file merged into the weights (a LoRA run's own adapters always are)
    out_root: str = str(DEFAULT_ROOT)
    overwrite: bool = False   # replace an existing export of the same name


def export_checkpoint(ckpt: str | Path, out_dir: str | Path, overwrite: bool = False,
                      adapter: str | Path | None = None) -> Path:
    """Write `model.ckpt` (EMA weights, config, step) and `config.yaml` into `out_dir`. LoRA
    adapters (the run's own, or an `adapter` file) are merged: the export is a plain model."""
    checkpoint = read_checkpoint(ckpt)
    # an export is made to be shared: refuse to pass on a config that could not be loaded safely
    check_trusted(checkpoint[CONFIG_KEY].get("model", {}), str(ckpt))
    state, config = checkpoint["state_dict"], checkpoint[CONFIG_KEY]
    if adapter or has_adapters(config):
        state, config = merged(ckpt, adapter)
    return write_export(out_dir, state, config, checkpoint.get("global_step"), checkpoint.get("epoch"),
                        str(resolve_checkpoint_path(ckpt).resolve()), overwrite)


def has_adapters(config: dict) -> bool:
    return bool(((config.get("model", {}).get("finetune") or {}).get("lora") or {}).get("rank"))


def merged(ckpt: str | Path, adapter: str | Path | None) -> tuple[dict, dict]:
    """(state dict, config) of the model with its adapters folded into the base weights."""
    model, config = load_model(ckpt)
    if adapter:
        apply_adapter(model, adapter)
    merge_lora(model.network)
    config = copy.deepcopy(config)
    config["model"]["finetune"] = {"lora": {"rank": 0}, "freeze": []}
    return model.state_dict(), config


def write_export(out_dir: str | Path, state_dict: dict, config: dict, global_step: int | None, epoch: int | None,
                 source: str, overwrite: bool = False) -> Path:
    """`saved_models/<name>/`: the weights (EMA when training used EMA) with the config that rebuilds
    their model, its label vocabulary, the step and where they came from."""
    out_dir = Path(out_dir)
    if (out_dir / EXPORTED_WEIGHTS).exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already holds an exported model; pass overwrite=true to replace it")
    exported = {
        "state_dict": state_dict,
        CONFIG_KEY: config,
        "labels": config.get("model", {}).get("labels"),  # the vocabulary (also in the config)
        "global_step": global_step,
        "epoch": epoch,
        "exported_from": source,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(exported, out_dir / EXPORTED_WEIGHTS)
    (out_dir / EXPORTED_CONFIG).write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    return out_dir


def main(argv: list[str]) -> None:
    args = parse_cli(ExportArgs, argv)
    out_dir = export_checkpoint(args.ckpt, Path(args.out_root) / args.name, args.overwrite, args.adapter)
    log.info("exported %s -> %s", args.ckpt, out_dir)


if __name__ == "__main__":
    run_cli(main)
