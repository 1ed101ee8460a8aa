"""benchmarks/decays.py on a tiny untrained waveform checkpoint with the kit's labels (debug=tiny: 1024
samples at 8 kHz, gated as the demo is)."""

from __future__ import annotations

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_decays_per_label_for_kit_and_samples_and_the_gates_response(tmp_path):
    result = run_script("decays.py", waveform_checkpoint(tmp_path), "per_label=4", "steps=2")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table_rows(result.stdout, "decay in frames")
    assert sorted(row[0] for row in rows) == ["hihat", "kick", "snare"]
    for row in rows:
        for cell in row[1:]:
            values = [int(v) for v in cell.split(" / ")]
            assert len(values) == 7 and values == sorted(values) and 0 <= values[0] and values[-1] <= 32
    # the kit's kicks ring past the window, its closed hats do not: the kit column tells them apart
    kit = {row[0]: [int(v) for v in row[1].split(" / ")] for row in rows}
    assert kit["kick"][3] > kit["hihat"][3]
    gates = table_rows(result.stdout, "tail level at t = 0.05")
    assert sorted(row[0] for row in gates) == ["hihat", "kick", "snare"]
    for row in gates:
        true_mean, gate_mean = (float(cell.split(" ± ")[0]) for cell in row[1:3])
        assert true_mean < 0 and gate_mean <= 43.5  # dB of the tensor's unit; an untrained gate is anywhere up to its clamp, e^10
        float(row[3])  # the slope is a number

    (tmp_path / "plain").mkdir()
    refused = run_script("decays.py", waveform_checkpoint(tmp_path / "plain", labelled=False))
    assert refused.returncode != 0 and "not a class-conditional model" in refused.stderr
