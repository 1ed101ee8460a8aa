"""benchmarks/waveform_floor.py on a tiny untrained waveform checkpoint (debug=tiny: 1024 samples at 8 kHz)."""

from __future__ import annotations

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint


def test_floor_costs_grow_with_the_level_and_the_denoiser_is_scored(tmp_path):
    result = run_script("waveform_floor.py", waveform_checkpoint(tmp_path, labelled=False), "sample_rate=8000",
                        "length=1024")
    assert result.returncode == 0, result.stderr[-2000:]
    floors = {row[0]: float(row[1]) for row in table_rows(result.stdout, "Held-out kit clips")}
    assert floors["none"] < 2 and floors["-80 dB"] < 2  # a floor far below the hits costs nothing
    assert floors["-30 dB"] > 5 * floors["none"]  # a loud one costs a lot
    errors = table_rows(result.stdout, "x_0 error")
    assert [row[0] for row in errors] == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.4"]
    assert all(len(row) == 5 and all(abs(float(cell)) < 200 for cell in row[2:]) for row in errors)
    tails = table_rows(result.stdout, "The same estimates over each clip's second half")
    assert [row[0] for row in tails] == ["kit itself", "0.01", "0.02", "0.05", "0.1", "0.2", "0.4"]
    kit = [float(cell) for cell in tails[0][2:]]
    assert all(level < -3 for level in kit), tails  # the synthetic hits have begun to decay by mid-clip
    lowest, highest = ([float(cell) for cell in tails[i][2:]] for i in (1, -1))
    assert all(high > low + 10 for low, high in zip(lowest, highest)), tails  # an untrained net's tail error follows sigma
