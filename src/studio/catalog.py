"""The models the studio offers: every training checkpoint under logs/ and every export under
saved_models/, newest first, each described from its own stored config."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from src.checkpoints.files import CONFIG_KEY, EXPORTED_WEIGHTS

log = logging.getLogger(__name__)

FAMILIES = {"WaveformRepresentation": "waveform", "MelRepresentation": "mel", "LatentRepresentation": "latent"}


@dataclass(frozen=True)
class ModelEntry:
    path: Path  # a .ckpt file or a saved_models/<name> folder
    family: str
    process: str
    labels: tuple[str, ...]
    step: int | None
    modified: float

    @property
    def title(self) -> str:
        labels = ", ".join(self.labels) if self.labels else "no labels"
        step = "?" if self.step is None else self.step
        return f"{self.path} · {self.family} · {self.process} · {labels} · step {step}"


def describe(path: Path) -> ModelEntry | None:
    """What a checkpoint or export holds, read without building it (None: not one of ours).
    mmap keeps a scan of many large checkpoints from reading their weights."""
    file = path / EXPORTED_WEIGHTS if path.is_dir() else path
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
    except (OSError, RuntimeError, ValueError, EOFError) as err:
        log.warning("studio: skipping %s: not a readable checkpoint (%s)", file, err)
        return None
    model = checkpoint.get(CONFIG_KEY, {}).get("model") if isinstance(checkpoint, dict) else None
    if not isinstance(model, dict) or "process" not in model:
        return None  # a VAE, or a file of another project
    representation = str(model.get("representation", {}).get("_target_", "")).rsplit(".", 1)[-1]
    process = str(model["process"].get("_target_", "")).rsplit(".", 1)[-1]
    return ModelEntry(path=path, family=FAMILIES.get(representation, representation or "?"), process=process,
                      labels=tuple(model.get("labels") or ()), step=checkpoint.get("global_step"),
                      modified=file.stat().st_mtime)


def find_models(roots: list[Path]) -> list[ModelEntry]:
    """Every diffusion checkpoint (*.ckpt) and export (a folder holding model.ckpt) under `roots`,
    newest first."""
    entries: list[ModelEntry] = []
    seen: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            continue
        for file in sorted(root.rglob("*.ckpt")):
            path = file.parent if file.name == EXPORTED_WEIGHTS else file
            if path in seen:
                continue
            seen.add(path)
            entry = describe(path)
            if entry is not None:
                entries.append(entry)
    return sorted(entries, key=lambda entry: entry.modified, reverse=True)
