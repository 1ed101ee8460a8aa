"""Label-aware scoring: class adherence by a k-NN classifier on the reference, and per-class scales."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.audio.io import write_wav
from src.data.synth import reference_kit
from src.metrics.by_label import label_report
from src.metrics.evaluate import main

RATE, LENGTH = 16000, 8192


@pytest.fixture(scope="module")
def kits():
    """A reference kit and an independent one standing in for generated clips, 8 hits per class."""
    return (reference_kit(8, RATE, 1, LENGTH, seed=777), reference_kit(8, RATE, 1, LENGTH, seed=5))


def test_real_hits_land_in_their_class_and_swapped_labels_do_not(kits):
    (reference, ref_labels), (clips, labels) = kits
    honest = label_report(clips, labels, reference, ref_labels, RATE, splits=2, k=3)
    assert honest["classifier_accuracy"] >= 0.9 and honest["in_class"] >= 0.9
    assert set(honest["per_label"]) == {"kick", "snare", "hihat"}
    for label, entry in honest["per_label"].items():
        assert entry["n"] == 8 and entry["landed"][label] >= 7
        assert entry["scale"]["frechet"]["ratio"] < 3  # real hits of a class against that class's floor
    swapped = {"kick": "snare", "snare": "hihat", "hihat": "kick"}
    wrong = label_report(clips, [swapped[label] for label in labels], reference, ref_labels, RATE, splits=2, k=3)
    assert wrong["in_class"] <= 0.1
    assert wrong["per_label"]["snare"]["landed"]["kick"] >= 7  # the kicks asked to be snares


def test_evaluate_reads_the_requested_labels_from_the_manifest(kits, tmp_path: Path, capsys):
    _, (clips, labels) = kits
    generated = tmp_path / "generated"
    files = []
    for i, (clip, label) in enumerate(zip(clips, labels)):
        files.append(f"sample_{i:03d}_{label}.wav")
        write_wav(generated / files[-1], clip, RATE)
    asked = ["kick" if label == "hihat" else label for label in labels]  # every hat was asked to be a kick
    (generated / "manifest.json").write_text(json.dumps({"files": files, "sampling": {"labels": asked}}))
    out = tmp_path / "report.json"
    assert main([f"generated={generated}", "reference=kit", f"sample_rate={RATE}", f"length={LENGTH}",
                 "embeddings=[logmel]", "bootstrap=0", "memorization=false", "splits=2", f"out={out}"]) == 0
    by_label = json.loads(out.read_text())["by_label"]
    assert by_label["per_label"]["kick"]["n"] == 16 and by_label["per_label"]["kick"]["in_class"] <= 0.6
    assert by_label["per_label"]["snare"]["in_class"] >= 0.9
    assert "by requested label" in capsys.readouterr().out
