"""The commands users type: train.py from another directory, resume, device errors, bad files, DDP, W&B."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def run_train(args: list[str], cwd: Path, env_extra: dict | None = None, timeout: int = 300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update({"WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1", **(env_extra or {})})
    env = {k: v for k, v in env.items() if v is not None}  # None removes a variable
    env.pop("PROJECT_ROOT", None)  # train.py must find its own root
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def tiny_args(data_dir: Path, run_dir: Path) -> list[str]:
    return ["exp=drum_diffusion_demo", "debug=tiny", f"paths.data_dir={data_dir}", f"hydra.run.dir={run_dir}"]


def test_train_then_resume_with_plus_ckpt_from_another_directory(tmp_path, data_dir):
    run = tmp_path / "run"
    first = run_train(tiny_args(data_dir, run), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    ckpt = run / "checkpoints" / "last.ckpt"
    resumed = run_train(["exp=drum_diffusion_demo", "debug=tiny", f"paths.data_dir={data_dir}",
                         f"+ckpt={ckpt}", "trainer.max_steps=6"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert torch.load(ckpt, weights_only=True)["global_step"] == 6  # same run folder, step continued
    assert (run / "samples" / "step_0000006").is_dir()
    assert len(list((run / "csv").glob("version_*/metrics.csv"))) == 2  # first metrics kept


def test_asking_for_a_gpu_on_a_cpu_machine_is_a_clear_error(tmp_path, data_dir):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = run_train(tiny_args(data_dir, tmp_path / "run") + ["trainer.gpus=1"], cwd=tmp_path)
    assert result.returncode != 0
    assert "trainer.gpus=0" in result.stderr and "Traceback" not in result.stderr


def test_missing_data_folder_is_a_clear_error(tmp_path, data_dir):
    result = run_train(tiny_args(data_dir, tmp_path / "run") + [f"datamodule.dataset.path={tmp_path / 'nope'}"],
                       cwd=tmp_path)
    assert result.returncode != 0 and "nope" in result.stderr


def test_training_survives_bad_files_and_counts_them(tmp_path, data_dir):
    folder = tmp_path / "audio"
    folder.mkdir()
    for path in sorted((data_dir / "demo_drums").rglob("*.wav"))[:8]:
        shutil.copy(path, folder / path.name)
    (folder / "corrupt.wav").write_bytes(b"RIFF" + os.urandom(200))
    sf.write(str(folder / "empty.flac"), np.zeros((0, 2)), 44100)
    sf.write(str(folder / "nan.wav"), np.full((4096, 2), np.nan, dtype=np.float32), 44100, subtype="FLOAT")
    result = run_train(tiny_args(data_dir, tmp_path / "run") + [f"datamodule.dataset.path={folder}",
                                                                 "datamodule.dataset.labels=none"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (tmp_path / "run" / "train.log").read_text()
    for name in ("corrupt.wav", "empty.flac", "nan.wav"):
        assert sum(name in line for line in log.splitlines() if "skipping" in line) == 1
    assert "11 files found, 3 skipped" in log


def test_ddp_with_two_cpu_processes(tmp_path, data_dir):
    run = tmp_path / "run"
    result = run_train(tiny_args(data_dir, run) + ["trainer.accelerator=cpu", "trainer.devices=2",
                                                   "trainer.strategy=ddp"], cwd=tmp_path, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MEMBER: 2/2" in result.stdout + result.stderr
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 4
    # the resume path under DDP: both processes load last.ckpt and continue to the new max_steps
    resumed = run_train(tiny_args(data_dir, run) + ["trainer.accelerator=cpu", "trainer.devices=2",
                                                    "trainer.strategy=ddp", "trainer.max_steps=6"],
                        cwd=tmp_path, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "continuing that run" in resumed.stdout + resumed.stderr
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 6


def test_wandb_runs_offline_without_key_and_resumes_the_same_run(tmp_path, data_dir):
    run = tmp_path / "run"
    env = {"HOME": str(tmp_path), "WANDB_MODE": None, "WANDB_API_KEY": None, "WANDB_SILENT": "true"}
    first = run_train(tiny_args(data_dir, run) + ["logger=wandb"], cwd=tmp_path, env_extra=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "wandb sync" in first.stdout + first.stderr
    run_id = (run / ".run_id").read_text().strip()
    assert list((run / "wandb").glob(f"offline-run-*-{run_id}"))
    resumed = run_train(["exp=drum_diffusion_demo", "debug=tiny", f"paths.data_dir={data_dir}", "logger=wandb",
                         f"ckpt={run / 'checkpoints' / 'last.ckpt'}", "trainer.max_steps=6"], cwd=tmp_path,
                        env_extra=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert len(list((run / "wandb").glob(f"offline-run-*-{run_id}"))) == 2  # same W&B run id, continued
