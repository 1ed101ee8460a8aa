"""A folder of audio files as fixed-size training clips."""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from src.audio.io import (
    AUDIO_EXTENSIONS,
    AudioDecodeError,
    audio_info,
    fit_length,
    normalize_loudness,
    normalize_lufs,
    normalize_peak,
    read_audio,
    resample,
    to_channels,
)
from src.data.file_dataset import FileDataset, LabelSettings
from src.data.file_index import check_with_index, relative_names
from src.data.file_probe import probe_audio
from src.data.files import list_files

log = logging.getLogger(__name__)

CROP_MODES = ("start", "random", "center")


@dataclass
class AudioFolderSpec(LabelSettings):
    """How files in a folder become clips. `path: null` means the built-in demo kit.

    crop: `start` suits one-shots (the attack is at the start), `random` suits long files
    (a new window every epoch), `center` takes the middle.

    Files with no usable content are skipped, each with a warning: a peak below `silence_db` dBFS
    (a silent or broken recording) or a length under `min_fraction` of a clip (a file truncated
    after its header). The scan checks the level only when it decodes files (`scan: full`)."""

    path: str | None
    sample_rate: int
    channels: int
    length: int
    crop: str = "start"
    normalize_db: float | None = None
    normalize_lufs: float | None = None
    normalize_peak_db: float | None = None
    scan: str = "full"
    silence_db: float = -60.0
    min_fraction: float = 0.01
    scan_workers: int | None = None
    cache_mb: float = 256.0

    def __post_init__(self) -> None:
        if self.crop not in CROP_MODES:
            raise ValueError(f"datamodule.dataset.crop must be one of {CROP_MODES}, got {self.crop!r}")
        chosen = [name for name in ("normalize_db", "normalize_lufs", "normalize_peak_db") if getattr(self, name) is not None]
        if len(chosen) > 1:
            raise ValueError(f"set one of datamodule.dataset.normalize_db (RMS), normalize_lufs (BS.1770) "
                             f"and normalize_peak_db (peak), not {' and '.join(chosen)}")
        if self.normalize_peak_db is not None and self.normalize_peak_db > 0:
            raise ValueError(f"datamodule.dataset.normalize_peak_db must be at most 0 dBFS, got {self.normalize_peak_db}")
        if self.scan not in ("full", "header"):
            raise ValueError(f"datamodule.dataset.scan must be 'full' or 'header', got {self.scan!r}")
        if self.scan_workers is not None and self.scan_workers < 1:
            raise ValueError(f"datamodule.dataset.scan_workers must be at least 1 (or null), got {self.scan_workers}")
        if self.cache_mb < 0:
            raise ValueError(f"datamodule.dataset.cache_mb must be at least 0 (0 = off), got {self.cache_mb}")
        if not 0.0 <= self.min_fraction <= 1.0:
            raise ValueError(f"datamodule.dataset.min_fraction must be in [0, 1], got {self.min_fraction}")
        if self.sample_rate <= 0 or self.length <= 0 or self.channels not in (1, 2):
            raise ValueError(
                f"invalid audio shape: sample_rate={self.sample_rate}, channels={self.channels}, length={self.length}"
            )

    def normalize(self, audio: torch.Tensor) -> torch.Tensor:
        """One clip (channels, samples) levelled as set: RMS, integrated loudness, peak, or as recorded."""
        if self.normalize_db is not None:
            return normalize_loudness(audio, self.normalize_db)
        if self.normalize_lufs is not None:
            return normalize_lufs(audio, self.sample_rate, self.normalize_lufs)
        if self.normalize_peak_db is not None:
            return normalize_peak(audio, self.normalize_peak_db)
        return audio

    # The folder-spec protocol the DataModule relies on (see src/data/mel_image_folder.py for the other one).
    def list_files(self, root: Path) -> list[Path]:
        return list_audio_files(root)

    def check_files(self, files: list[Path], root: Path | None = None,
                    cache_dir: str | Path | None = None) -> tuple[list[Path], list[str]]:
        log.info("skipping files whose peak is below %g dBFS%s or that last under %g%% of a clip (%.1f ms) "
                 "(datamodule.dataset.silence_db, min_fraction)", self.silence_db,
                 "" if self.scan == "full" else " (not checked: scan=header reads no samples)",
                 100 * self.min_fraction, 1000 * self.min_seconds)
        return scan_files(files, full=self.scan == "full", content=self.content_problem, root=root,
                          cache_dir=cache_dir, workers=self.scan_workers)

    @property
    def min_seconds(self) -> float:
        return self.min_fraction * self.length / self.sample_rate

    def content_problem(self, frames: int, rate: int, peak: float | None) -> str | None:
        """Why a file of `frames` at `rate` (with this sample peak, when decoded) is no training clip, or None."""
        if frames / rate < self.min_seconds:
            return (f"only {frames} frames ({1000 * frames / rate:.1f} ms), under {100 * self.min_fraction:g}% "
                    "of a clip (datamodule.dataset.min_fraction)")
        if peak is not None:
            peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
            if peak_db < self.silence_db:
                return f"silent: peak {peak_db:.1f} dBFS, below datamodule.dataset.silence_db={self.silence_db:g}"
        return None

    def make_dataset(self, files: list[Path], labels: list[int] | None = None) -> Dataset:
        return AudioClipDataset(files, self, labels)

    def label_keys(self, files: list[Path], root: Path) -> list[str]:
        """What a label is looked up by: each file's path below the folder."""
        return relative_names(files, root)


def list_audio_files(root: str | Path) -> list[Path]:
    """Every audio file under `root`, recursively, sorted; a clear error if there are none."""
    return list_files(root, AUDIO_EXTENSIONS, "audio")


def scan_files(files: list[Path], full: bool, content: Callable[[int, int, float | None], str | None] | None = None,
               root: Path | None = None, cache_dir: str | Path | None = None,
               workers: int | None = None) -> tuple[list[Path], list[str]]:
    """Split `files` into usable ones and one warning per unusable file.

    `full` decodes every file (catches NaN/inf and truncated data); otherwise only headers.
    `content(frames, rate, peak or None)` names what makes a readable file unusable. With a
    `cache_dir`, what was learned is kept in a file index, and unchanged files are not read again."""
    if not files:
        return [], []
    root = root or Path(os.path.commonpath([f.parent for f in files]))
    facts = check_with_index(files, root, full, probe_audio, cache_dir, workers)
    good, problems = [], []
    for path in files:
        found = facts[path]
        problem = found.error or (content(found.frames, found.rate, found.peak) if content else None)
        if problem:
            problems.append(problem if found.error else f"{path}: {problem}")
            continue
        good.append(path)
    return good, problems


def split_files(files: list[Path], val_fraction: float, root: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Deterministic split: a file is held out when the hash of its path (relative to `root`) falls below
    `val_fraction`, so adding files never moves old ones between the sets. Tiny folders
    that would get no validation file hold out the one with the smallest hash."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"datamodule.val_fraction must be in [0, 1), got {val_fraction}")

    def _unit_hash(path: Path) -> float:
        # The path relative to the data root: moving the folder keeps the split.
        key = (path.relative_to(root) if root else path).as_posix()
        return int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) / 16**12

    val = {f for f in files if _unit_hash(f) < val_fraction}
    if not val and val_fraction > 0 and len(files) > 1:
        val = {min(files, key=_unit_hash)}
    return [f for f in files if f not in val], [f for f in files if f in val]


class AudioClipDataset(FileDataset):
    """Loads, resamples, converts channels, crops/pads and normalises each file.

    Items are keyed by `index` or `(index, crop_seed)`; the seed makes random crops
    reproducible across workers and resumes. A file that turns bad after the scan (header-only
    scan, disk errors) is skipped with a warning rather than killing a long run.

    Start and center crops give a file the same clip every epoch, so clips are kept in memory up
    to `spec.cache_mb` (per loader process): a small dataset is decoded and resampled once, not
    at every step. Random crops are read afresh each time."""

    skippable = (AudioDecodeError,)
    kind = "audio file"

    def __init__(self, files: list[Path], spec: AudioFolderSpec, labels: list[int] | None = None) -> None:
        super().__init__(files, labels)
        self.spec = spec
        self._clips: dict[Path, torch.Tensor] = {}
        clip_bytes = 4 * spec.channels * spec.length
        self._cache_limit = 0 if spec.crop == "random" else int(spec.cache_mb * 2**20) // clip_bytes

    def load(self, path: Path, seed: int) -> torch.Tensor:
        cached = self._clips.get(path)
        if cached is not None:
            return cached.clone()  # a copy, so nothing downstream can change the kept clip
        clip = self.load_clip(path, seed)
        if len(self._clips) < self._cache_limit:
            self._clips[path] = clip.clone()
        return clip

    def load_clip(self, path: Path, crop_seed: int) -> torch.Tensor:
        spec = self.spec
        frames, rate, _ = audio_info(path)
        # Read only the window we need (plus a margin for the resampler) from long files.
        need = math.ceil(spec.length * rate / spec.sample_rate) + 64
        start = self._crop_start(frames - need, crop_seed)
        audio, rate = read_audio(path, start=start, frames=need)
        audio = resample(audio, rate, spec.sample_rate)
        audio = fit_length(to_channels(audio, spec.channels), spec.length)
        return spec.normalize(audio).float().contiguous()

    def _crop_start(self, slack: int, crop_seed: int) -> int:
        if slack <= 0 or self.spec.crop == "start":
            return 0
        if self.spec.crop == "center":
            return slack // 2
        generator = torch.Generator().manual_seed(crop_seed)
        return int(torch.randint(0, slack + 1, (1,), generator=generator))
