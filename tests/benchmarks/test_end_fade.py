"""benchmarks/end_fade.py on a tiny untrained waveform checkpoint with the kit's labels (debug=tiny: 1024
samples at 8 kHz)."""

from __future__ import annotations

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_the_fade_lowers_every_class_end_and_the_kit_is_shown_beside_it(tmp_path):
    result = run_script("end_fade.py", waveform_checkpoint(tmp_path), "fades_ms=[0,16]", "per_label=2", "steps=2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "the model's own end fade: 16 ms" in result.stdout  # the demo's setting, read from the checkpoint
    rows = table_rows(result.stdout, "6 clips")
    assert [row[0] for row in rows] == ["held-out kit", "fade 0 ms", "fade 16 ms"]
    kit, plain, faded = ([float(cell) for cell in row[1:4]] for row in rows)
    assert all(level < -10 for level in kit[:1] + kit[2:])  # kit hats and snares have decayed by their last 2 ms
    assert all(f < p - 20 for f, p in zip(faded, plain))  # the fade weighs its last 2 ms by 0.04 at most (-28 dB)
    assert len(rows[2][4].split(" / ")) == 3 and rows[1][0:4] != rows[2][0:4]
