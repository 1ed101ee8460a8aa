"""What checking one audio file finds: its header, and its samples' peak."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.audio.decode import AudioDecodeError, audio_info, read_samples


@dataclass
class FileFacts:
    """What one check of a file found. `peak` is None when only its header was read."""

    size: int
    mtime_ns: int
    frames: int | None = None
    rate: int | None = None
    channels: int | None = None
    peak: float | None = None
    error: str | None = None


def probe_audio(path: Path, full: bool) -> FileFacts:
    """An audio file's header, and with `full` its samples' peak (decoding every sample also
    catches NaN, infinities and data cut short)."""
    try:
        stat = path.stat()
    except OSError as err:  # vanished, a dangling link, no permission: skipped by name, like a bad file
        return FileFacts(size=-1, mtime_ns=-1, error=f"{path}: cannot read ({err.strerror or err})")
    facts = FileFacts(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    try:
        facts.frames, facts.rate, facts.channels = audio_info(path)
        if full:
            samples, _ = read_samples(path)
            facts.frames, facts.peak = int(samples.shape[0]), float(np.abs(samples).max())
    except AudioDecodeError as err:
        facts.error = str(err)
    return facts
