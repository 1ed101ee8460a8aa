"""benchmarks/null_mix.py: the fit of the null label's prediction, and the script on tiny checkpoints."""

from __future__ import annotations

import torch

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint
from tests.conftest import ROOT


def test_a_null_prediction_made_as_a_mix_gives_back_its_weights(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the script imports its neighbours
    from null_mix import null_as_mix

    generator = torch.Generator().manual_seed(0)
    labelled = {name: torch.randn(4, 2, 16, generator=generator) for name in ("a", "b", "c")}
    mix = 0.2 * labelled["a"] + 0.5 * labelled["b"] + 0.3 * labelled["c"]
    weights, unexplained, power = null_as_mix({None: mix, **labelled}, ["a", "b", "c"])
    assert torch.allclose(weights, torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64), atol=1e-6)
    assert unexplained < 1e-10
    equal = sum(labelled.values()) / 3
    assert abs(power - float(mix.square().mean() / equal.square().mean())) < 1e-5

    # a null prediction outside the labels' span is all unexplained
    basis = torch.stack([p.flatten().double() for p in labelled.values()], dim=1)
    draw = torch.randn(4 * 2 * 16, 1, generator=generator, dtype=torch.float64)
    other = (draw - basis @ torch.linalg.lstsq(basis, draw).solution).reshape(4, 2, 16)
    _, unexplained, _ = null_as_mix({None: other, **labelled}, ["a", "b", "c"])
    assert unexplained > 0.999


def test_the_script_writes_one_row_per_level_and_refuses_unconditional_models(tmp_path):
    (tmp_path / "labelled").mkdir()
    (tmp_path / "plain").mkdir()
    ckpt = waveform_checkpoint(tmp_path / "labelled")
    result = run_script("null_mix.py", ckpt, "samples=2", "steps=5", "levels=2")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table_rows(result.stdout, "drum_diffusion_demo, step")
    assert len(rows) == 2 and float(rows[0][0]) > float(rows[1][0])  # the schedule's first two levels, noisiest first
    assert all(len(row) == 1 + 3 + 2 for row in rows)  # the level, a weight per kit label, the two shares
    assert all(0.0 <= float(row[4]) <= 1.0 for row in rows)

    plain = run_script("null_mix.py", waveform_checkpoint(tmp_path / "plain", labelled=False))
    assert plain.returncode != 0 and "not a class-conditional model" in plain.stderr
