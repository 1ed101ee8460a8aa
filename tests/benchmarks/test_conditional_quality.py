"""benchmarks/conditional_quality.py on a tiny untrained waveform checkpoint with the kit's labels
(debug=tiny: 1024 samples at 8 kHz), and its sampling-grid overrides."""

from __future__ import annotations

import pytest

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint
from tests.conftest import ROOT


def test_scores_the_null_label_and_each_label_on_another_sampling_grid(tmp_path):
    result = run_script("conditional_quality.py", waveform_checkpoint(tmp_path), "per_label=2", "steps=2",
                        "scales=[1]", "min_noise_ratio=0.002", f"pictures={tmp_path / 'pictures'}")
    assert result.returncode == 0, result.stderr[-2000:]
    pictures = sorted(path.name for path in (tmp_path / "pictures").iterdir())
    assert pictures == ["kit_vs_generated.png", "kit_vs_null_label.png"]
    rows = table_rows(result.stdout, "drum_diffusion_demo, step")
    assert [row[0] for row in rows] == ["unconditional (null label)", "cfg_scale 1"]
    assert rows[1][-2].startswith("hihat") and "kick" in rows[1][-2] and "snare" in rows[1][-2]


def test_no_scales_scores_the_null_label_alone(tmp_path):
    result = run_script("conditional_quality.py", waveform_checkpoint(tmp_path), "per_label=2", "steps=2", "scales=[]",
                        "sampler=ancestral", "eta=1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [row[0] for row in table_rows(result.stdout, "drum_diffusion_demo, step")] == ["unconditional (null label)"]
    assert "sampler ancestral (eta 1)" in result.stdout and "classifier" not in result.stdout


def test_min_noise_ratio_sets_a_v_cosine_grid_and_refuses_others(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the script imports its neighbours
    from conditional_quality import set_min_noise_ratio
    from src.processes.edm import EDMProcess
    from src.processes.v_cosine import VCosineProcess

    process = VCosineProcess(cosine_spacing=1.0)
    to_zero = process.schedule(10)
    set_min_noise_ratio(process, 0.002, "run.ckpt")
    assert float(process.schedule(10)[-2]) < float(to_zero[-2]) / 10  # the last noisy time is nearer clean
    with pytest.raises(ValueError, match="positive"):
        set_min_noise_ratio(process, 0.0, "run.ckpt")
    with pytest.raises(ValueError, match="v_cosine model; run.ckpt"):
        set_min_noise_ratio(EDMProcess(), 0.002, "run.ckpt")


def test_shift_moves_a_rectified_flow_grid_towards_noise_and_refuses_others(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from conditional_quality import set_shift
    from src.processes.rectified_flow import RectifiedFlowProcess
    from src.processes.v_cosine import VCosineProcess

    process = RectifiedFlowProcess()
    even = process.schedule(10)
    set_shift(process, 3.0, "run.ckpt")
    shifted = process.schedule(10)
    assert shifted[0] == even[0] == 1.0 and shifted[-1] == even[-1] == 0.0
    assert bool((shifted[1:-1] > even[1:-1]).all())  # every step in between sits nearer noise
    with pytest.raises(ValueError, match="positive"):
        set_shift(process, 0.0, "run.ckpt")
    with pytest.raises(ValueError, match="rectified_flow model; run.ckpt"):
        set_shift(VCosineProcess(), 3.0, "run.ckpt")
