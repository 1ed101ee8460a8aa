"""benchmarks/one_step_classes.py on a tiny untrained waveform checkpoint with the kit's labels."""

from __future__ import annotations

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_one_step_class_shares_per_time_with_and_without_the_label(tmp_path):
    result = run_script("one_step_classes.py", waveform_checkpoint(tmp_path), "per_label=2", "times=[0.5,0.99]")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table_rows(result.stdout, "drum_diffusion_demo: 6 held-out hits")
    assert [row[0] for row in rows] == ["0.5", "0.99"]
    for row in rows:
        for cell in row[1:]:
            shares = dict(part.split(" ") for part in cell.split(", "))
            assert sorted(shares) == ["hihat", "kick", "snare"]
            assert all(0.0 <= float(share) <= 1.0 for share in shares.values())

    (tmp_path / "plain").mkdir()
    refused = run_script("one_step_classes.py", waveform_checkpoint(tmp_path / "plain", labelled=False))
    assert refused.returncode != 0 and "not a class-conditional model" in refused.stderr
