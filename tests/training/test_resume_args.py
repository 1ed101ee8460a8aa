import os
import time

import pytest

from src.training.resume import latest_last_ckpt, prepare_resume_argv
from tests.conftest import ROOT, compose_config

CONFIGS = ROOT / "configs"


def make_ckpt(run_dir):
    path = run_dir / "checkpoints" / "last.ckpt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    return path


def test_no_ckpt_leaves_arguments_alone():
    argv = ["train.py", "exp=drum_diffusion", "trainer.gpus=0"]
    assert prepare_resume_argv(argv, CONFIGS) == argv


@pytest.mark.parametrize("spelling", ["+ckpt", "ckpt", "++ckpt"])
def test_both_spellings_resume_into_the_checkpoints_run_folder(tmp_path, spelling):
    ckpt = make_ckpt(tmp_path / "run")
    argv = prepare_resume_argv(["train.py", "exp=drum_diffusion", f"{spelling}={ckpt}"], CONFIGS)
    assert argv[2] == f"ckpt={ckpt.resolve()}"
    assert argv[-1] == f"hydra.run.dir={(tmp_path / 'run').resolve()}"


def test_explicit_run_dir_wins(tmp_path):
    ckpt = make_ckpt(tmp_path / "run")
    argv = prepare_resume_argv(["train.py", f"ckpt={ckpt}", "hydra.run.dir=/elsewhere"], CONFIGS)
    assert not any(a.startswith("hydra.run.dir=") and a != "hydra.run.dir=/elsewhere" for a in argv)


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        prepare_resume_argv(["train.py", f"+ckpt={tmp_path / 'nope.ckpt'}"], CONFIGS)


def test_last_finds_the_newest_run_of_the_experiment(tmp_path):
    runs = tmp_path / "logs" / "drum_diffusion_demo" / "runs"
    old, new = make_ckpt(runs / "2026-01-01"), make_ckpt(runs / "2026-02-01")
    os.utime(old, (time.time() - 100, time.time() - 100))
    make_ckpt(tmp_path / "logs" / "other_exp" / "runs" / "2027-01-01")
    argv = prepare_resume_argv(
        ["train.py", "exp=drum_diffusion_demo", f"paths.log_dir={tmp_path / 'logs'}", "ckpt=last"], CONFIGS
    )
    assert f"ckpt={new}" in argv
    assert latest_last_ckpt(tmp_path / "logs", "drum_diffusion_demo") == new
    with pytest.raises(FileNotFoundError, match="no_such_exp"):
        latest_last_ckpt(tmp_path / "logs", "no_such_exp")


def test_dir_logs_and_dir_data_move_the_folders_and_ckpt_last_follows(tmp_path, monkeypatch):
    monkeypatch.setenv("DIR_LOGS", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("DIR_DATA", str(tmp_path / "samples"))
    cfg = compose_config(["exp=drum_diffusion_demo"])
    assert cfg.paths.log_dir == str(tmp_path / "elsewhere") and cfg.paths.data_dir == str(tmp_path / "samples")
    assert cfg.datamodule.demo_dir == str(tmp_path / "samples" / "demo_drums")
    ckpt = make_ckpt(tmp_path / "elsewhere" / "drum_diffusion_demo" / "runs" / "2026-03-01")
    assert f"ckpt={ckpt}" in prepare_resume_argv(["train.py", "exp=drum_diffusion_demo", "ckpt=last"], CONFIGS)
    monkeypatch.setenv("DIR_LOGS", "")  # an empty line in .env means the default
    assert compose_config(["exp=drum_diffusion_demo"]).paths.log_dir.endswith("/logs")
