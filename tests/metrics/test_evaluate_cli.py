"""python -m src.metrics.evaluate end to end on tiny folders."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from src.metrics.evaluate import main, parse_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folders(tmp_path: Path, kit_dir: Path) -> tuple[Path, Path]:
    """generated: 6 kit WAVs (two in a subfolder, one as FLAC) plus a corrupt file; reference: 9 others."""
    files = sorted(kit_dir.rglob("*.wav"))
    generated, reference = tmp_path / "generated", tmp_path / "reference"
    for i, path in enumerate(files[0::2][:6]):
        target = generated / ("nested" if i < 2 else "") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if i == 5:
            data, rate = sf.read(str(path))
            sf.write(str(target.with_suffix(".flac")), data, rate)
        else:
            shutil.copy(path, target)
    for path in files[1::2][:9]:
        reference.mkdir(exist_ok=True)
        shutil.copy(path, reference / path.name)
    (generated / "broken.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    (generated / "notes.txt").write_text("not audio, not listed")
    return generated, reference


def test_end_to_end_report(folders: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture,
                           capsys: pytest.CaptureFixture[str]) -> None:
    generated, reference = folders
    out = tmp_path / "reports" / "report.json"
    with caplog.at_level(logging.WARNING):
        code = main([f"generated={generated}", f"reference={reference}", "bootstrap=20", "seed=3",
                     "embeddings=[logmel,mfcc,crepe]", f"out={out}"])
    assert code == 0
    assert any("broken.wav" in message for message in caplog.messages)
    report = json.loads(out.read_text())
    assert report["generated"]["n"] == 6 and report["reference"]["n"] == 9
    assert len(report["generated"]["skipped"]) == 1 and "broken.wav" in report["generated"]["skipped"][0]
    assert report["length"] == 11889  # 32768 samples at 44.1 kHz, resampled to 16 kHz
    assert list(report["metrics"]) == ["logmel", "mfcc", "crepe"]
    for name, dim in (("logmel", 128), ("mfcc", 40), ("crepe", 256)):
        scores = report["metrics"][name]
        assert scores["dim"] == dim
        for metric in ("frechet", "kernel"):
            estimate = scores[metric]
            assert (estimate["n_generated"], estimate["n_reference"], estimate["rounds"]) == (6, 9, 20)
            assert estimate["low"] <= estimate["value"] <= estimate["high"]
    assert report["metrics"]["logmel"]["kernel"]["bandwidth"] > 0
    memo = report["memorization"]
    assert memo["n_generated"] == 6 and memo["n_training"] == 9 and memo["suspected_copies"] == []
    table = capsys.readouterr().out
    assert "logmel" in table and "crepe" in table and "memorisation" in table


def test_copies_of_reference_files_are_reported_by_name(tmp_path: Path, kit_dir: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(kit_dir / "kick", reference)
    generated = tmp_path / "generated"
    generated.mkdir()
    shutil.copy(reference / "kick_003.wav", generated / "sample_00.wav")
    shutil.copy(kit_dir / "snare" / "snare_000.wav", generated / "sample_01.wav")
    out = tmp_path / "report.json"
    assert main([f"generated={generated}", f"reference={reference}", "embeddings=[logmel]", "bootstrap=0",
                 "length=8000", f"out={out}"]) == 0
    report = json.loads(out.read_text())
    assert report["length"] == 8000 and report["metrics"]["logmel"]["frechet"]["low"] is None
    copies = report["memorization"]["suspected_copies"]
    assert [(c["generated"], c["training"]) for c in copies] == [("sample_00.wav", "kick_003.wav")]


def test_missing_and_empty_folders_fail_with_a_clear_message(tmp_path: Path, folders: tuple[Path, Path],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    generated, reference = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([f"generated={tmp_path / 'nowhere'}", f"reference={reference}"]) == 2
    assert "generated folder not found" in caplog.text
    assert main([f"generated={generated}", f"reference={empty}"]) == 2
    assert "reference folder" in caplog.text and "0 readable audio file(s)" in caplog.text


@pytest.mark.parametrize("argv, message", [
    (["generated=a", "reference=b", "bootstrapp=10"], "bootstrapp"),
    (["generated=a"], "reference"),
    (["generated=a", "reference=b", "bootstrap=many"], "bootstrap"),
    (["generated=a", "reference=b", "embeddings=[logmel,vggish]"], "embeddings"),
    (["generated=a", "reference=b", "crepe_model=huge"], "crepe_model"),
    (["generated=a", "reference=b", "sample_rate=0"], "sample_rate"),
    (["generated=a", "reference=b", "length=-5"], "length"),
    (["generated=a", "reference=b", "device=gpu0"], "device"),
    (["generated=a", "reference=kit", "splits=0"], "splits"),
    (["generated=a", "reference=kit", "k=0"], "k must"),
    (["generated=a", "reference=kit", "reference_seed=x"], "reference_seed"),
])
def test_bad_arguments_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_config(argv)


def test_defaults() -> None:
    cfg = parse_config(["generated=a", "reference=b"])
    assert (cfg.sample_rate, cfg.length, cfg.bootstrap, cfg.seed, cfg.embeddings, cfg.crepe_model, cfg.out) == (
        16000, None, 200, 0, ["logmel", "mfcc", "crepe"], "tiny", None)
    assert (cfg.splits, cfg.k, cfg.reference_seed, cfg.training, cfg.scale) == (5, 5, 777, None, True)


def test_runs_as_a_module(folders: tuple[Path, Path], tmp_path: Path) -> None:
    generated, reference = folders
    out = tmp_path / "module.json"
    result = subprocess.run(
        [sys.executable, "-m", "src.metrics.evaluate", f"generated={generated}", f"reference={reference}",
         "embeddings=[logmel]", "bootstrap=5", "memorization=false", f"out={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "logmel" in result.stdout and "broken.wav" in result.stderr
    assert "memorization" not in json.loads(out.read_text())
