"""OmegaConf resolvers used by the configs."""

from __future__ import annotations

import uuid
from pathlib import Path

from omegaconf import OmegaConf

from src.utils.wandb_setup import wandb_mode

RUN_ID_FILE = ".run_id"


def run_id(run_dir: str) -> str:
    """A stable id per run folder: a resumed run logs into the same W&B run."""
    path = Path(run_dir) / RUN_ID_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    new_id = uuid.uuid4().hex[:12]
    path.write_text(new_id)
    return new_id


def register_resolvers() -> None:
    for name, fn in (("run_id", run_id), ("wandb_mode", wandb_mode)):
        if not OmegaConf.has_resolver(name):
            # use_cache: resolve once per process, so the mode check runs once and the id never changes.
            OmegaConf.register_new_resolver(name, fn, use_cache=True)
