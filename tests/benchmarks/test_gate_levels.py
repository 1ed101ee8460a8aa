"""benchmarks/gate_levels.py on a tiny untrained waveform checkpoint with the kit's labels and a gate."""

from __future__ import annotations

import math

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_gate_levels_per_time_and_class_beside_the_clean_level(tmp_path):
    result = run_script("gate_levels.py", waveform_checkpoint(tmp_path), "per_label=2", "times=[0.5,0.99]", "frames=8")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table_rows(result.stdout, "drum_diffusion_demo: 6 held-out hits")
    assert [row[:2] for row in rows] == [[t, name] for t in ("0.5", "0.99") for name in ("hihat", "kick", "snare")]
    for row in rows:
        levels = [float(cell) for cell in row[2:]]
        assert all(math.isfinite(level) for level in levels)
    clean = {row[1]: (row[4], row[7]) for row in rows}
    assert all(clean[row[1]] == (row[4], row[7]) for row in rows)  # the clean level does not move with t
    assert float(clean["kick"][0]) > float(clean["hihat"][0])  # a kick's low path is louder than a hat's

    (tmp_path / "plain").mkdir()
    refused = run_script("gate_levels.py", waveform_checkpoint(tmp_path / "plain", labelled=False))
    assert refused.returncode != 0 and "not a class-conditional model with a gate" in refused.stderr
