"""python -m src.metrics.evaluate on the floor scale: reference=kit, labelled folders, a training folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from src.audio.io import write_wav
from src.data.synth import reference_kit
from src.metrics.audio_sets import UNLABELED, kit_hits_per_kind, load_folder
from src.metrics.evaluate import main

RATE, LENGTH = 16000, 6000


def write_clips(folder: Path, audio: torch.Tensor, stem: str) -> None:
    for i, clip in enumerate(audio):
        write_wav(folder / f"{stem}_{i:02d}.wav", clip, RATE)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 kit hits like the demo's (seed 3) and 3 white-noise clips."""
    folder = tmp_path_factory.mktemp("generated")
    write_clips(folder, reference_kit(2, RATE, 1, LENGTH, seed=3)[0], "hit")
    write_clips(folder, 0.3 * torch.randn(3, 1, LENGTH, generator=torch.Generator().manual_seed(0)), "noise")
    return folder


def test_reference_kit_end_to_end(generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert main([f"generated={generated}", "reference=kit", f"sample_rate={RATE}", "embeddings=[logmel]",
                 "bootstrap=10", "splits=3", "k=3", f"out={out}"]) == 0
    report = json.loads(out.read_text())
    assert report["reference"]["n"] == 18 and "seed 777" in report["reference"]["folder"]  # halves of 9 for 9
    assert report["length"] == LENGTH
    scale = report["scale"]
    assert (scale["n_generated"], scale["n_reference"], scale["n_compared"], scale["splits"], scale["k"]) == (
        9, 18, 9, 3, 3)
    assert scale["frechet"]["ratio"] > 1.5 and scale["frechet"]["ratio_low"] <= scale["frechet"]["ratio"]
    assert 0.8 < scale["density"]["floor"] < 1.5 and scale["coverage"]["high"] <= 1.0
    assert sorted(scale["class_counts"]) == ["hihat", "kick", "snare"] and sum(scale["class_counts"].values()) == 9
    assert report["memorization"]["against"] == "reference"
    table = capsys.readouterr().out
    assert "Fréchet ratio" in table and "nearest reference class" in table and "memorisation vs reference" in table


def test_labelled_reference_folder_and_a_training_folder(generated: Path, tmp_path: Path) -> None:
    reference, training = tmp_path / "reference", tmp_path / "training"
    audio, labels = reference_kit(3, RATE, 1, LENGTH, seed=777)
    for kind in sorted(set(labels)):
        write_clips(reference / kind, audio[[i for i, label in enumerate(labels) if label == kind]], kind)
    write_clips(reference, audio[:2], "loose")  # at the top: unlabeled
    write_clips(training, reference_kit(2, RATE, 1, LENGTH, seed=0)[0], "train")
    assert load_folder(reference, RATE, "reference").labels.count(UNLABELED) == 2
    out = tmp_path / "report.json"
    assert main([f"generated={generated}", f"reference={reference}", f"training={training}", f"sample_rate={RATE}",
                 "embeddings=[logmel]", "bootstrap=0", f"out={out}"]) == 0
    report = json.loads(out.read_text())
    assert sorted(report["scale"]["class_counts"]) == ["hihat", "kick", "snare", UNLABELED]
    assert report["scale"]["frechet"]["low"] is None
    assert report["training"]["n"] == 6
    memo = report["memorization"]
    assert memo["against"] == "training" and memo["n_training"] == 6


def test_scale_can_be_switched_off(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main([f"generated={generated}", "reference=kit", "embeddings=[logmel]", "bootstrap=0", "scale=false",
                 "memorization=false", f"out={out}"]) == 0
    assert "scale" not in json.loads(out.read_text())


def test_a_reference_too_small_to_split_skips_the_scale(generated: Path, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    reference, out = tmp_path / "reference", tmp_path / "report.json"
    write_clips(reference, reference_kit(1, RATE, 1, LENGTH, seed=777)[0], "hit")
    assert main([f"generated={generated}", f"reference={reference}", "embeddings=[logmel]", "bootstrap=0",
                 "memorization=false", f"out={out}"]) == 0
    assert "scale" not in json.loads(out.read_text()) and "no floor scale" in caplog.text


def test_kit_size_follows_the_generated_count() -> None:
    assert [3 * kit_hits_per_kind(n) for n in (2, 8, 9, 48)] == [6, 18, 18, 96]
