"""The audio -> mel PNG slices CLI."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from src.audio.io import read_audio, resample
from src.data.audio_to_images import main, parse_resolution, slice_bounds
from src.data.synth import write_demo_kit
from src.data.mel_images import load_mel_png
from src.representations.mel import MelParams, audio_to_image

REPO = Path(__file__).resolve().parents[2]
SLICE = 64 * 512 - 1  # samples per slice at resolution=64, hop_length=512


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    """Six synthetic hits plus a corrupt and an empty file."""
    root = write_demo_kit(tmp_path / "kit", hits_per_kind=2)
    (root / "kick" / "corrupt.wav").write_bytes(b"RIFF not a wav at all")
    sf.write(root / "empty.wav", np.zeros((0, 1), dtype=np.float32), 22050)
    return root


def metadata(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]


def test_end_to_end_and_resume(kit: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "images"
    args = [f"input_dir={kit}", f"output_dir={out}", "resolution=64", "hop_length=512"]
    with caplog.at_level(logging.WARNING):
        counts = main(args)
    assert (counts["converted"], counts["skipped"], counts["done"]) == (6, 2, 0)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("corrupt.wav" in m for m in warned) == 1 and sum("empty.wav" in m for m in warned) == 1

    records = metadata(out)
    assert [r["file_name"] for r in records] == sorted(r["file_name"] for r in records)
    assert {r["source"] for r in records} == {p.relative_to(kit).as_posix() for p in kit.rglob("*_00?.wav")}
    first = next(r for r in records if r["source"] == "kick/kick_000.wav")
    assert first == {"file_name": "kick/kick_000/slice_0000.png", "source": "kick/kick_000.wav",
                     "slice": 0, "start": 0.0, "end": pytest.approx(16384 / 22050)}

    # The PNG holds what the representation computes from the resampled mono audio.
    audio, rate = read_audio(kit / "kick" / "kick_000.wav")
    mono = resample(audio.mean(dim=0, keepdim=True), rate, 22050)[0]
    expected = audio_to_image(torch.nn.functional.pad(mono, (0, SLICE - mono.shape[-1])), MelParams(n_mels=64))
    torch.testing.assert_close(load_mel_png(out / first["file_name"]), expected)

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    again = main(args)
    assert (again["converted"], again["skipped"], again["done"]) == (0, 2, 6)
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    assert metadata(out) == records


def test_changed_settings_reconvert(kit: Path, tmp_path: Path) -> None:
    out = tmp_path / "images"
    main([f"input_dir={kit}", f"output_dir={out}", "resolution=16x32"])
    folder = out / "snare" / "snare_001"
    # 16384 samples = 2 full 16-frame slices (8191 samples) + 2 samples, which are dropped.
    assert sorted(p.name for p in folder.glob("*.png")) == ["slice_0000.png", "slice_0001.png"]
    assert load_mel_png(folder / "slice_0001.png").shape == (32, 16)
    counts = main([f"input_dir={kit}", f"output_dir={out}", "resolution=64"])
    assert counts["converted"] == 6
    assert sorted(p.name for p in folder.glob("*.png")) == ["slice_0000.png"]  # stale slice removed
    assert load_mel_png(folder / "slice_0000.png").shape == (64, 64)
    assert len(metadata(out)) == 6


def test_slices_and_times_of_a_long_file(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    sf.write(src / "long.flac", rng.uniform(-0.5, 0.5, int(2.6 * SLICE)).astype(np.float32), 22050)
    sf.write(src / "short_tail.wav", rng.uniform(-0.5, 0.5, int(2.3 * SLICE)).astype(np.float32), 22050)
    main([f"input_dir={src}", f"output_dir={tmp_path / 'out'}", "resolution=64"])
    records = {(r["source"], r["slice"]): r for r in metadata(tmp_path / "out")}
    assert sorted(records) == [("long.flac", 0), ("long.flac", 1), ("long.flac", 2),
                               ("short_tail.wav", 0), ("short_tail.wav", 1)]
    assert records[("long.flac", 1)]["start"] == pytest.approx(SLICE / 22050)
    assert records[("long.flac", 2)]["end"] == pytest.approx(int(2.6 * SLICE) / 22050)
    padded = load_mel_png(tmp_path / "out" / "long" / "slice_0002.png")
    assert (padded[:, -10:] == 0).all()  # zero padding is silence: the darkest level


def test_silent_slices_are_left_out(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    tone = 0.3 * np.sin(np.arange(SLICE) * 0.07).astype(np.float32)
    sf.write(src / "tone_then_silence.wav", np.concatenate([tone, np.zeros(SLICE, np.float32)]), 22050)
    sf.write(src / "silence.wav", np.zeros(SLICE, np.float32), 22050)
    counts = main([f"input_dir={src}", f"output_dir={tmp_path / 'out'}", "resolution=64"])
    assert counts["converted"] == 2
    assert [(r["source"], r["slice"]) for r in metadata(tmp_path / "out")] == [("tone_then_silence.wav", 0)]
    assert not (tmp_path / "out" / "tone_then_silence" / "slice_0001.png").exists()
    assert main([f"input_dir={src}", f"output_dir={tmp_path / 'out'}", "resolution=64"])["done"] == 2


def test_non_finite_audio_is_skipped(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "nan.wav", np.full(40000, np.nan, dtype=np.float32), 22050, subtype="FLOAT")
    sf.write(src / "ok.wav", np.full(40000, 0.1, dtype=np.float32), 22050)
    counts = main([f"input_dir={src}", f"output_dir={tmp_path / 'out'}", "resolution=64"])
    assert (counts["converted"], counts["skipped"]) == (1, 1)


def test_slice_bounds_tail_rule() -> None:
    assert slice_bounds(25, 10) == [(0, 10), (10, 20), (20, 25)]  # half full: kept
    assert slice_bounds(24, 10) == [(0, 10), (10, 20)]  # less than half: dropped
    assert slice_bounds(3, 10) == [(0, 3)]  # shorter than one slice: one padded slice
    assert slice_bounds(20, 10) == [(0, 10), (10, 20)]


def test_parse_resolution() -> None:
    assert parse_resolution("256") == (256, 256)
    assert parse_resolution("512x128") == parse_resolution("512,128") == (512, 128)
    for bad in ("0", "64x", "axb", "1x2x3"):
        with pytest.raises(ValueError, match="resolution"):
            parse_resolution(bad)


def test_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no audio here")
    cases = [
        ([f"input_dir={tmp_path / 'missing'}", "output_dir=o"], "input folder not found"),
        ([f"input_dir={tmp_path / 'empty'}", "output_dir=o"], "no audio files"),
        ([f"input_dir={tmp_path}", "output_dir=o", "resoluton=64"], "resoluton"),
        ([f"input_dir={tmp_path}", "output_dir=o", "workers=0"], "workers"),
        (["output_dir=o"], "input_dir"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit, match=message):
            main(argv)


@pytest.mark.slow
def test_cli_with_workers(kit: Path, tmp_path: Path) -> None:
    """The real command line, with two worker processes."""
    out = tmp_path / "images"
    cmd = [sys.executable, "-m", "src.data.audio_to_images", f"input_dir={kit}", f"output_dir={out}",
           "resolution=32", "workers=2"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    assert "converted 6 files (6 slices, 0 silent slices left out), 0 already done, 2 skipped" in done.stderr
    assert len(metadata(out)) == 6 and len(list(out.rglob("slice_*.png"))) == 6
