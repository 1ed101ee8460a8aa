"""The clip sets the evaluation CLI scores: folders of audio files, or a synthetic reference kit.

Every set is mono at the target rate, with a name and a class label per clip. A folder's labels are its
first-level subfolder names (`kick/a.wav` is a kick); files directly in the folder are "unlabeled"."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from src.audio.io import AUDIO_EXTENSIONS, AudioDecodeError, fit_length, read_audio, resample
from src.data.synth import DRUM_KINDS, reference_kit

log = logging.getLogger(__name__)

UNLABELED = "unlabeled"
KIT = "kit"  # the `reference` value that asks for a synthetic kit instead of a folder


@dataclass
class AudioSet:
    source: str  # the folder, or a description of a synthetic set
    names: list[str]  # per clip: the path relative to the folder
    clips: list[torch.Tensor]  # (1, samples) mono at the target rate, before length fitting
    skipped: list[str]
    labels: list[str]

    def stacked(self, length: int) -> torch.Tensor:
        return torch.stack([fit_length(clip, length) for clip in self.clips])

    def summary(self) -> dict[str, object]:
        return {"folder": self.source, "n": len(self.clips), "skipped": self.skipped}


def label_of(relative: Path) -> str:
    """The first-level subfolder a file sits in, or UNLABELED for files at the top."""
    return relative.parts[0] if len(relative.parts) > 1 else UNLABELED


def load_folder(folder: str | Path, sample_rate: int, role: str) -> AudioSet:
    """Every readable audio file under `folder` as mono clips at `sample_rate`; `role` names it in errors."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{role} folder not found: {folder}")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    names, clips, skipped = [], [], []
    for path in paths:
        try:
            audio, rate = read_audio(path)
        except AudioDecodeError as err:
            log.warning("skipping unreadable %s file: %s", role, err)
            skipped.append(str(err))
            continue
        names.append(path.relative_to(folder).as_posix())
        clips.append(resample(audio.mean(dim=0, keepdim=True), rate, sample_rate))
    if len(names) < 2:
        raise ValueError(f"{role} folder {folder} has {len(names)} readable audio file(s) "
                         f"({', '.join(AUDIO_EXTENSIONS)}); at least 2 are needed")
    return AudioSet(str(folder), names, clips, skipped, [label_of(Path(name)) for name in names])


def kit_hits_per_kind(n_generated: int) -> int:
    """Hits per drum kind for a kit whose two halves each hold at least `n_generated` clips:
    2 x n_generated rounded up to a multiple of the number of kinds, split evenly."""
    return max(1, math.ceil(2 * n_generated / len(DRUM_KINDS)))


def kit_reference(n_generated: int, sample_rate: int, length: int, seed: int) -> AudioSet:
    """A fresh mono kit drawn like the demo data set (src/data/synth.reference_kit) at `sample_rate`,
    sized for `n_generated` generated clips."""
    audio, labels = reference_kit(kit_hits_per_kind(n_generated), sample_rate, channels=1, length=length, seed=seed)
    names = [f"{label}/{label}_{labels[:i].count(label):03d}" for i, label in enumerate(labels)]
    return AudioSet(f"synthetic kit (seed {seed})", names, list(audio), [], labels)
