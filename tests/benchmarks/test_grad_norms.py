"""benchmarks/grad_norms.py on a tiny untrained waveform checkpoint with the kit's labels (debug=tiny: 1024
samples at 8 kHz)."""

from __future__ import annotations

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_norms_quantiles_clip_shares_and_the_same_batches_under_a_lead_weight(tmp_path):
    ckpt = waveform_checkpoint(tmp_path)
    result = run_script("grad_norms.py", ckpt, "batches=6", "batch_size=2", "clips=[0.000001,1000000]")
    assert result.returncode == 0, result.stderr[-2000:]
    quantiles = table_rows(result.stdout, "6 kit batches of 2")
    assert [row[0] for row in quantiles] == ["0.1", "0.5", "0.9", "1"]
    norms = [float(row[1]) for row in quantiles]
    assert norms == sorted(norms) and norms[0] > 0  # real gradients, quantiles in order
    clipped = {row[0]: (float(row[1]), row[2]) for row in table_rows(result.stdout, "Clipping at each value")}
    assert clipped["1e-06"][0] == 1.0 and clipped["1e-06"][1].endswith("x")  # every step is over a tiny clip
    assert clipped["1e+06"] == (0.0, "-")  # and none over a huge one
    largest = [float(row[0]) for row in table_rows(result.stdout, "The largest norms")]
    assert largest == sorted(largest, reverse=True) and abs(largest[0] - norms[-1]) <= 0.01 * norms[-1]  # the maximum
    by_class = table_rows(result.stdout, "Gradient norms of batches that hold one class each")
    assert sorted(row[0] for row in by_class) == ["hihat", "kick", "snare"]
    assert all([float(cell) for cell in row[1:]] == sorted(float(cell) for cell in row[1:]) for row in by_class)
    # the same batches under a lead weight that all but switches every channel's v error off
    weighted = run_script("grad_norms.py", ckpt, "batches=6", "batch_size=2", "clips=[0.000001,1000000]",
                          "lead_channels=64", "lead_weight=0.0001")
    assert weighted.returncode == 0, weighted.stderr[-2000:]
    losses = [[float(row[2]) for row in table_rows(out.stdout, "6 kit batches of 2")] for out in (result, weighted)]
    assert all(w < p for p, w in zip(*losses))
