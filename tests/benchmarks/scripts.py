"""Running a benchmark script on a tiny untrained checkpoint, and reading its markdown tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, untrained_checkpoint

KIT_LABELS = ["model.labels=[hihat,kick,snare]", "model.network.num_classes=3"]


def waveform_checkpoint(folder: Path, labelled: bool = True) -> Path:
    """The waveform demo at debug=tiny (1024 samples at 8 kHz), untrained, with the kit's labels or none."""
    return untrained_checkpoint(folder, ["exp=drum_diffusion_demo", "debug=tiny", *(KIT_LABELS if labelled else [])])


def run_script(script: str, ckpt: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"benchmarks/{script}", f"ckpt={ckpt}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def table_rows(text: str, first: str) -> list[list[str]]:
    """The cells of the markdown rows after the line starting with `first`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    rows = []
    for line in lines[start + 3:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows
