"""The demo kit as one tensor, split into two halves with the same mix of drum kinds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from src.audio.io import read_audio
from src.data.synth import write_demo_kit


def load_clips(folder: Path) -> torch.Tensor:
    """Every WAV under `folder` (sorted by path) as one (N, C, T) tensor; all must share a shape."""
    return torch.stack([read_audio(path)[0] for path in sorted(folder.rglob("*.wav"))])


@pytest.fixture(scope="session")
def kit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_kit(tmp_path_factory.mktemp("metrics_kit"), hits_per_kind=8)


@pytest.fixture(scope="session")
def kit_audio(kit_dir: Path) -> torch.Tensor:
    """24 clips (8 kicks, 8 snares, 8 hi-hats), (24, 2, 32768) at 44.1 kHz."""
    return load_clips(kit_dir)


@pytest.fixture(scope="session")
def kit_halves(kit_audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every other clip: 12 and 12, each with 4 of every kind."""
    return kit_audio[0::2].contiguous(), kit_audio[1::2].contiguous()
