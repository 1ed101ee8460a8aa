"""LoRA adapter files: a few MB of adapter tensors (and the class embedding, which trains with
them) with the settings that place them, saved apart from the base weights.

    python -m src.generation.adapters ckpt=<a LoRA run's .ckpt> out=<adapter.pt>

`generate.py ckpt=<base> adapter=<file>` samples the base with an adapter; `export ... adapter=<file>`
merges one into an export. train.py writes `adapter.pt` beside the checkpoints of every LoRA run."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from omegaconf import MISSING

from src.checkpoints.files import CONFIG_KEY, CheckpointError, read_checkpoint
from src.models.diffusion_module import AudioDiffusionModule
from src.networks.adapters import LoraSettings, add_lora, trained_with_adapters
from src.utils.cli import parse_cli, run_cli

log = logging.getLogger(__name__)
FORMAT = "audio-diffusion-lora-1"


def extract_adapter(ckpt: str | Path, out: str | Path) -> Path:
    """The adapters of a LoRA run's checkpoint (its EMA weights) as an adapter file."""
    checkpoint = read_checkpoint(ckpt)
    model = checkpoint[CONFIG_KEY]["model"]
    lora = ((model.get("finetune") or {}).get("lora") or {})
    if not lora.get("rank"):
        raise CheckpointError(f"{ckpt}: not a LoRA run (its finetune.lora.rank is 0)")
    # the adapters, and the class embedding that trains with them
    state = {key.removeprefix("network."): value for key, value in checkpoint["state_dict"].items()
             if key.startswith("network.") and trained_with_adapters(key)}
    record = {"format": FORMAT, "lora": asdict(LoraSettings(**lora)), "state": state,
              "labels": list(model.get("labels") or []), "step": checkpoint.get("global_step"),
              "base": checkpoint[CONFIG_KEY].get("init_from")}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(record, out)
    return out


def apply_adapter(model: AudioDiffusionModule, path: str | Path) -> AudioDiffusionModule:
    """`model` (the base) with the adapter file's adapters in place, in eval mode."""
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises pickle, zip and runtime errors alike for foreign files
        raise CheckpointError(f"adapter={path}: not a readable adapter file ({err})") from err
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"adapter={path}: not an adapter file of this framework")
    if list(record["labels"]) != list(model.labels):
        raise CheckpointError(f"adapter={path} was trained with labels {record['labels']}, this model has "
                              f"{list(model.labels)}")
    if model.finetune.lora.rank:
        raise CheckpointError(f"adapter={path}: the model already carries adapters; give its base")
    add_lora(model.network, LoraSettings(**record["lora"]))
    missing = sorted(set(record["state"]) - set(model.network.state_dict()))
    if missing:
        raise CheckpointError(f"adapter={path} does not fit this model's network ({missing[0]} and more)")
    model.network.load_state_dict(record["state"], strict=False)
    return model.to(model.device).eval()


@dataclass
class ExtractArgs:
    ckpt: str = MISSING   # a LoRA run's .ckpt
    out: str = MISSING    # the adapter file to write


def main(argv: list[str]) -> None:
    args = parse_cli(ExtractArgs, argv)
    log.info("wrote %s", extract_adapter(args.ckpt, args.out))


if __name__ == "__main__":
    run_cli(main)
