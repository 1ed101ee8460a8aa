"""benchmarks/label_errors.py on a tiny untrained waveform checkpoint with the kit's labels (debug=tiny: 1024
samples at 8 kHz)."""

from __future__ import annotations

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_errors_per_class_and_time_with_the_own_and_the_null_label(tmp_path):
    result = run_script("label_errors.py", waveform_checkpoint(tmp_path), "times=[0.2,0.9]")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table_rows(result.stdout, "x_0 error, own label / null label")
    assert [row[0] for row in rows] == ["0.2", "0.9"]
    for row in rows:
        for cell in row[1:]:
            own, rest = cell.split(" / ")
            null, ratio = rest.split(" (")
            assert float(own) > 0 and float(null) > 0
            assert abs(float(ratio.rstrip("x)")) - float(null) / float(own)) < 0.01 * float(null) / float(own) + 0.01
    # an untrained network's class embedding is random, so the two labels give different estimates
    assert any(cell.split(" / ")[0] != cell.split(" / ")[1].split(" (")[0] for row in rows for cell in row[1:])
    # the noisier time leaves more to guess, with any network
    kick_errors = [float(row[2].split(" / ")[0]) for row in rows]
    assert kick_errors[1] > kick_errors[0]

    (tmp_path / "plain").mkdir()
    refused = run_script("label_errors.py", waveform_checkpoint(tmp_path / "plain", labelled=False))
    assert refused.returncode != 0 and "not a class-conditional model" in refused.stderr
