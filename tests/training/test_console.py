"""What a newcomer sees: a bar over the run's steps, and none of Lightning's noise."""

from __future__ import annotations

import re

import pytest

from tests.training.test_cli import run_train, tiny_args

pytestmark = pytest.mark.slow


def test_the_console_counts_steps_toward_max_steps_without_noise(tmp_path, data_dir):
    result = run_train(tiny_args(data_dir, tmp_path / "run") + [
        "trainer.max_steps=6", "trainer.log_every_n_steps=50",
        "callbacks.progress_bar={_target_: src.callbacks.progress.StepProgressBar, refresh_rate: 1}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    console = result.stdout + result.stderr
    bars = [line for line in re.split(r"[\r\n]", console) if "steps (epoch" in line]
    assert bars and "6/6" in bars[-1] and "steps (epoch 2)" in bars[-1]  # 2 batches an epoch: one bar, not three
    assert "step/s" in console or "s/step" in console
    for noise in ("LeafSpec", "Tip: For seamless", "smaller than the logging interval", "Epoch 0:"):
        assert noise not in console, noise
