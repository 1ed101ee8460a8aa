"""Train a recipe on a folder of audio for a fixed wall time, then score its checkpoints against
that folder: quality against time, training clips/s and peak GPU memory, from one run.

    python benchmarks/timed_training.py data=<folder> [exp=drum_diffusion] [minutes=4] [every=100]
        [labels=name:^([a-z]+)] [clips=30] [steps=50] [seed=0] [out=timed_training] [overrides=[...]]

Training is `train.py` itself (CSV logger, run folder `<out>/run`), stopped by trainer.max_time,
with a checkpoint every `every` optimizer steps. Each checkpoint samples `clips` clips at `steps`
steps of its own sampler from seeded noise, and they are scored on the floor scale against every
file of the folder: the floor is two class-balanced halves of those files, with the classes that
`labels` (src/data/labels.py) reads from their names. The reference is the training data itself,
so a low ratio can also mean memorised hits. The time of a checkpoint is its file's time since
`train.py` was launched, start-up included. On CUDA, Lightning's DeviceStatsMonitor records the
peak memory. Writes `<out>/results.md` and `<out>/folder_vs_generated.png` (two files per class
above the last checkpoint's first clips)."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from common import ROOT, markdown_table
from scoring import SCALE_HEADER, generate_clips, save_sheet, scale_cells
from src.checkpoints.files import read_checkpoint
from src.data.labels import make_labeler
from src.generation.checkpoint import load_model
from src.metrics.audio_sets import load_folder
from src.metrics.scale import score_against_floor
from src.utils.cli import parse_cli, run_cli

CLIPS_PER_SECOND = "train/device/samples_per_sec"  # src/callbacks/throughput.py, on one device
PEAK_MEMORY = "allocated_bytes.all.peak"  # the column DeviceStatsMonitor logs from torch.cuda.memory_stats


def max_time(minutes: float) -> str:
    """Lightning's DD:HH:MM:SS for a number of minutes."""
    seconds = int(round(minutes * 60))
    return f"00:{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def train(args, run: Path) -> float:
    """Run train.py; returns the time it was launched (for checkpoint times)."""
    command = [sys.executable, "train.py", f"exp={args.exp}", f"datamodule.dataset.path={Path(args.data).resolve()}",
               "logger=csv", f"hydra.run.dir={run.resolve()}", f"+trainer.max_time={max_time(args.minutes)}",
               f"callbacks.periodic_checkpoint.every_n_train_steps={args.every}", *args.overrides]
    if torch.cuda.is_available():
        command.append("+callbacks.device_stats._target_=pytorch_lightning.callbacks.DeviceStatsMonitor")
    run.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(run / "train_stdout.log", "w") as log:
        result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "WANDB_MODE": "disabled"})
    if result.returncode:
        raise RuntimeError(f"train.py failed ({result.returncode}); see {run / 'train_stdout.log'}")
    return started


def logged_rates(run: Path) -> tuple[float | None, float | None]:
    """(median training clips/s, peak GPU GiB) from the run's metrics.csv files."""
    rates, peaks = [], []
    for path in run.rglob("metrics.csv"):
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get(CLIPS_PER_SECOND):
                    rates.append(float(row[CLIPS_PER_SECOND]))
                peaks += [float(v) for k, v in row.items() if k and k.endswith(PEAK_MEMORY) and v]
    rate = sorted(rates)[len(rates) // 2] if rates else None
    return rate, (max(peaks) / 2**30 if peaks else None)


def checkpoints(run: Path) -> list[Path]:
    """The periodic checkpoints in step order, then last.ckpt (where the run stopped)."""
    folder = run / "checkpoints"
    return sorted(folder.glob("step*.ckpt")) + [folder / "last.ckpt"]


def reference_set(data: str, labels: str, sample_rate: int, length: int) -> tuple[torch.Tensor, list[str]]:
    files = load_folder(data, sample_rate, "reference")
    labeler = make_labeler(labels, Path(data))
    names = [labeler(name) if labeler else None for name in files.names]
    return files.stacked(length), [name or "unlabeled" for name in names]


def score_checkpoints(paths: list[Path], started: float, args,
                      device: str) -> tuple[list[list[object]], tuple, torch.Tensor]:
    """One table row per checkpoint, the reference (clips, labels, sample rate) and the last
    checkpoint's clips. The folder is read once, at the first checkpoint's rate and length: every
    checkpoint of one run shares its representation."""
    rows, reference, audio = [], None, None
    for path in paths:
        model, _ = load_model(path, device)
        rep = model.representation
        if reference is None:
            reference = (*reference_set(args.data, args.labels, rep.sample_rate, rep.length), rep.sample_rate)
        audio = generate_clips(model, args.clips, args.steps, args.seed).float().cpu()
        scores = score_against_floor(audio, *reference, seed=args.seed).to_dict()
        step = read_checkpoint(path)["global_step"]
        rows.append([path.name, step, f"{(path.stat().st_mtime - started) / 60:.1f}", *scale_cells(scores)[:4]])
    return rows, reference, audio


def pictures(reference: torch.Tensor, labels: list[str], sample_rate: int, audio: torch.Tensor, path: Path) -> None:
    picked = [i for name in sorted(set(labels)) for i in [j for j, x in enumerate(labels) if x == name][:2]]
    save_sheet([reference[picked], audio[: len(picked)]], sample_rate, path)


def main(argv: list[str]) -> None:
    args = parse_cli({"data": "???", "exp": "drum_diffusion", "minutes": 4.0, "every": 100, "labels": "name:^([a-z]+)",
                      "clips": 30, "steps": 50, "seed": 0, "out": "timed_training", "overrides": []}, argv)
    if not Path(args.data).is_dir():
        raise FileNotFoundError(f"data folder not found: {args.data}")
    if args.minutes <= 0 or args.every < 1 or args.clips < 4 or args.steps < 1:
        raise ValueError("minutes must be positive, every and steps at least 1 and clips at least 4; "
                         f"got {args.minutes}, {args.every}, {args.steps}, {args.clips}")
    out = Path(args.out)
    started = train(args, out / "run")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows, (reference, labels, sample_rate), audio = score_checkpoints(checkpoints(out / "run"), started, args, device)
    pictures(reference, labels, sample_rate, audio, out / "folder_vs_generated.png")
    rate, peak = logged_rates(out / "run")
    summary = (f"device: {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}; exp={args.exp} on "
               f"{args.data} for {args.minutes} min; training clips/s (median of the logged windows): "
               f"{'-' if rate is None else f'{rate:.1f}'}; peak GPU memory: "
               f"{'-' if peak is None or math.isnan(peak) else f'{peak:.2f} GiB'}\n\n")
    table = markdown_table(["checkpoint", "step", "minutes since launch", *SCALE_HEADER[:4]], rows)
    (out / "results.md").write_text(summary + table + "\n")
    sys.stdout.write(summary + table + "\n")


if __name__ == "__main__":
    run_cli(main)
