"""benchmarks/timed_training.py: a tiny run on a small labelled folder, its checkpoints scored against it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from src.data.synth import write_demo_kit
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from timed_training import logged_rates, max_time  # noqa: E402


def test_minutes_become_lightnings_max_time():
    assert max_time(4) == "00:00:04:00"
    assert max_time(0.5) == "00:00:00:30"
    assert max_time(90.25) == "00:01:30:15"


def test_rates_and_peak_memory_are_read_from_the_csv_logs(tmp_path):
    folder = tmp_path / "csv" / "version_0"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text(
        "step,train/device/samples_per_sec,DeviceStatsMonitor.on_train_batch_end/allocated_bytes.all.peak\n"
        f"9,,{2**30}\n19,100.0,\n29,300.0,{3 * 2**30}\n39,200.0,\n")
    assert logged_rates(tmp_path) == (200.0, 3.0)
    assert logged_rates(tmp_path / "csv" / "version_0" / "none") == (None, None)


@pytest.mark.slow
def test_a_short_run_is_scored_at_every_checkpoint(tmp_path):
    kit = write_demo_kit(tmp_path / "kit", hits_per_kind=3, sample_rate=8000, length=1024)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "benchmarks/timed_training.py", f"data={kit}", "exp=drum_diffusion_demo", "minutes=5",
         "every=3", "labels=folder", "clips=6", "steps=2", f"out={out}",
         "overrides=[debug=tiny,trainer.max_steps=6,datamodule.batch_size=4]"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.splitlines()
            if line.startswith(("| step", "| last"))]
    assert [(row[0], row[1]) for row in rows] == [("step0000003.ckpt", "3"), ("step0000006.ckpt", "6"),
                                                  ("last.ckpt", "6")]
    for row in rows:
        assert float(row[2]) > 0 and float(row[3].split(" ")[0]) > 0
        assert sorted(part.split(" ")[0] for part in row[6].split(", ")) == ["hihat", "kick", "snare"]
    assert (out / "results.md").read_text().startswith("device: cpu")
    assert (out / "folder_vs_generated.png").stat().st_size > 0


def test_a_missing_folder_is_named(tmp_path):
    result = subprocess.run([sys.executable, "benchmarks/timed_training.py", f"data={tmp_path / 'nowhere'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "data folder not found" in result.stderr and "nowhere" in result.stderr
