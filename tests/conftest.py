"""Shared fixtures: the project root on the env, a tiny composed config, synthetic audio."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROJECT_ROOT", str(ROOT))
os.environ.setdefault("WANDB_MODE", "disabled")  # no test may reach the network
os.environ.setdefault("WANDB_SILENT", "true")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One worker per core (-n auto) at one thread each (their subprocesses inherit it): no oversubscription.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from hydra import compose, initialize_config_dir  # noqa: E402
from hydra.core.global_hydra import GlobalHydra  # noqa: E402
from omegaconf import DictConfig, open_dict  # noqa: E402

from src.data.synth import write_demo_kit  # noqa: E402
from src.utils.resolvers import register_resolvers  # noqa: E402

register_resolvers()
SHARED_DRUMS = ROOT.parent / "shared" / "data" / "drum_oneshots"
EXPERIMENTS = sorted(p.stem for p in (ROOT / "exp").glob("*.yaml"))


def compose_config(overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir per session: the demo kit is synthesised once."""
    path = tmp_path_factory.mktemp("data")
    write_demo_kit(path / "demo_drums")
    return path


def tiny_run_config(tmp_path: Path, data_dir: Path, exp: str, debug: str, extra: tuple[str, ...] = ()) -> DictConfig:
    """`exp` shrunk by `debug`, with the session's demo kit, writing only under tmp_path (run folder: run/)."""
    cfg = compose_config([f"exp={exp}", f"debug={debug}", f"paths.data_dir={data_dir}",
                          f"paths.log_dir={tmp_path / 'logs'}", *extra])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "run")
    return cfg


def untrained_checkpoint(folder: Path, overrides: list[str]) -> Path:
    """folder/tiny.ckpt: a model composed from `overrides`, untrained (seed 0), with its resolved config."""
    import hydra
    import torch
    from omegaconf import OmegaConf

    cfg = compose_config(overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(folder)
    torch.manual_seed(0)
    model = hydra.utils.instantiate(cfg.model)
    path = folder / "tiny.ckpt"
    torch.save({"state_dict": model.state_dict(), "config": OmegaConf.to_container(cfg, resolve=True)}, path)
    return path


@pytest.fixture
def tiny_cfg(tmp_path: Path, data_dir: Path) -> DictConfig:
    """The waveform demo experiment shrunk by debug=tiny."""
    return tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny")


def write_tone(path: Path, rate: int = 16000, seconds: float = 0.5, channels: int = 1,
               freq: float = 440.0, subtype: str | None = None, amplitude: float = 0.5) -> Path:
    """A sine tone file in any format soundfile writes (by extension)."""
    t = np.arange(int(rate * seconds)) / rate
    data = amplitude * np.sin(2 * np.pi * freq * t)
    data = np.stack([data] * channels, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, subtype=subtype)
    return path


@pytest.fixture
def shared_drums() -> Path:
    if not SHARED_DRUMS.is_dir():
        pytest.skip(f"real drum one-shots not present at {SHARED_DRUMS}")
    return SHARED_DRUMS
