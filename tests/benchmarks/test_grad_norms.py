"""benchmarks/grad_norms.py on a tiny untrained waveform checkpoint with the kit's labels (debug=tiny: 1024
samples at 8 kHz)."""

from __future__ import annotations

import subprocess
import sys

from tests.benchmarks.test_waveform_floor import table_rows
from tests.conftest import ROOT, untrained_checkpoint


def test_norms_quantiles_and_the_share_each_clip_value_scales_down(tmp_path):
    ckpt = untrained_checkpoint(tmp_path, ["exp=drum_diffusion_demo", "debug=tiny", "model.labels=[hihat,kick,snare]",
                                           "model.network.num_classes=3"])
    result = subprocess.run([sys.executable, "benchmarks/grad_norms.py", f"ckpt={ckpt}", "batches=6", "batch_size=2",
                             "clips=[0.000001,1000000]"], cwd=ROOT, capture_output=True, text=True, timeout=300)
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
