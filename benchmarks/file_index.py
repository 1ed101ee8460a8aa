"""Start-up scan of a data folder: the first start (no index) against a second over the same folder.

    python benchmarks/file_index.py files=3000 [scan=full] [seconds=0.5] [rate=44100] [channels=2] [workers=null]

Writes `files` one-shot WAVs (one decoded clip copied under new names, so writing is quick) into a
temporary folder, then times AudioFolderSpec.check_files, the check every training start runs:
first with an empty index (every file decoded, in worker processes from 5,000 files), then again over the unchanged
folder (a stat per file and the index). `serial first` repeats the first check in one process, without an index."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from common import markdown_table, timed
from src.data.audio_folder import AudioFolderSpec, list_audio_files
from src.utils.cli import parse_cli, run_cli


def write_folder(root: Path, files: int, seconds: float, rate: int, channels: int) -> None:
    buffer = io.BytesIO()
    t = np.arange(int(rate * seconds)) / rate
    hit = 0.5 * np.sin(2 * np.pi * 220 * t) * np.exp(-8 * t)
    sf.write(buffer, np.stack([hit] * channels, axis=1), rate, format="WAV", subtype="PCM_24")
    data = buffer.getvalue()
    for i in range(files):
        folder = root / f"pack_{i // 1000:03d}"  # sample libraries come in folders
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"hit_{i:06d}.wav").write_bytes(data)


def timed_check(spec: AudioFolderSpec, root: Path, cache: Path | None) -> float:
    def check() -> None:
        kept, problems = spec.check_files(list_audio_files(root), root, cache)
        assert not problems and kept

    return timed(check)


def main(argv: list[str]) -> None:
    args = parse_cli({"files": 3000, "scan": "full", "seconds": 0.5, "rate": 44100, "channels": 2, "workers": None},
                     argv)
    root = Path(tempfile.mkdtemp(prefix="file_index_"))
    try:
        write_folder(root / "data", args.files, args.seconds, args.rate, args.channels)
        spec = AudioFolderSpec(path=str(root / "data"), sample_rate=16000, channels=1, length=8192, scan=args.scan,
                               scan_workers=args.workers)
        first = timed_check(spec, root / "data", root / "cache")
        second = timed_check(spec, root / "data", root / "cache")
        serial = timed_check(replace(spec, scan_workers=1), root / "data", None)
    finally:
        shutil.rmtree(root)
    rows = [[f"{args.files}", f"{serial:.2f}", f"{first:.2f}", f"{second:.2f}", f"{first / second:.1f}x"]]
    sys.stdout.write(f"scan={args.scan}, {args.seconds} s clips, {args.rate} Hz, {args.channels} channels, 24-bit\n" + markdown_table(
        ["files", "serial first s", "first s (parallel)", "second s (index)", "second vs first"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
