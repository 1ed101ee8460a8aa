"""A tiny class-conditional checkpoint for the studio's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.training.run import train
from tests.conftest import tiny_run_config


@pytest.fixture(scope="session")
def studio_ckpt(tmp_path_factory, data_dir) -> Path:
    """logs/<...>/last.ckpt of the conditional waveform demo shrunk by debug=tiny (4 steps)."""
    root = tmp_path_factory.mktemp("studio")
    cfg = tiny_run_config(root, data_dir, "drum_diffusion_demo", "tiny")
    train(cfg)
    return root / "run" / "checkpoints" / "last.ckpt"
