"""OmegaConf resolvers used by the configs."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
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


# SLURM sets a job id in interactive allocations too; these job names are Lightning's test for them.
INTERACTIVE_SLURM_JOBS = ("bash", "interactive")


def run_folder_name(run_name: str | None) -> str:
    """The name of this run's folder under logs/<experiment>/runs/.

    `run_name` when given; else, inside a batch SLURM job, `slurm-<job id>` (a requeued job keeps
    its id, so it finds its own folder and resumes); else the start time, a new run each time."""
    if run_name not in (None, "", "null"):
        name = str(run_name)
        if "/" in name or name in (".", ".."):
            raise ValueError(f"run_name={name!r} must be a plain folder name, without '/'")
        return name
    job = os.environ.get("SLURM_ARRAY_JOB_ID") and os.environ.get("SLURM_ARRAY_TASK_ID")
    job_id = (f"{os.environ['SLURM_ARRAY_JOB_ID']}_{job}" if job else os.environ.get("SLURM_JOB_ID"))
    if job_id and os.environ.get("SLURM_JOB_NAME") not in INTERACTIVE_SLURM_JOBS:
        return f"slurm-{job_id}"
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # torchrun and the like start every process alone: each would name its own folder by its clock
        raise ValueError("several processes were launched (WORLD_SIZE > 1): pass run_name=<name> (or "
                         "hydra.run.dir=<folder>) so that every process writes to the same run folder")
    return datetime.now().strftime("%Y-%m-%d_%H-%M-%S")


def folder_from_env(variable: str, default: str) -> str:
    """The folder an environment variable names (tiny-audio-diffusion's DIR_LOGS and DIR_DATA,
    often set in .env), or `default` when it is unset or empty."""
    value = os.environ.get(variable, "").strip()
    return str(Path(value).expanduser()) if value else default


class RequiredSetting(ValueError):
    """A setting the experiment needs and the command line did not give."""


def required(setting: str, hint: str) -> str:
    """`${required:init_from,"..."}`: a setting an experiment cannot run without. Giving it on the
    command line replaces the interpolation; otherwise resolving it stops the run, saying why."""
    raise RequiredSetting(f"{setting} is required here: {hint}")


def waveform_channels(channels: int, mdct_bands: int, low_bands: int = 0, sub_bands: int = 0) -> int:
    """`${waveform_channels:${audio.channels},${model.representation.mdct_bands},${model.representation.mdct_low_bands},${model.representation.mdct_low_sub_bands}}`:
    the channels a waveform model tensor has, channels * (bands + low-path and sub-path channels) for
    an MDCT representation (older configs pass no third or fourth argument)."""
    return int(channels) * (max(int(mdct_bands), 1) + int(low_bands) + int(sub_bands))


def register_resolvers() -> None:
    for name, fn in (("run_id", run_id), ("wandb_mode", wandb_mode), ("run_folder", run_folder_name),
                     ("folder_from_env", folder_from_env), ("required", required),
                     ("waveform_channels", waveform_channels)):
        if not OmegaConf.has_resolver(name):
            # use_cache: resolve once per process, so the mode check runs once and the id never changes.
            OmegaConf.register_new_resolver(name, fn, use_cache=True)
