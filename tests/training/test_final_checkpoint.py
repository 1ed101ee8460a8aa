"""Every run ends with last.ckpt at the step it reached: short runs, every family, preemption."""

from __future__ import annotations

import pytest
import torch
from pytorch_lightning.utilities.exceptions import SIGTERMException

from src.training.run import train
from tests.conftest import tiny_run_config
from tests.training.test_cli import run_train
from tests.training.test_latent_e2e import LATENT, VAE, run_config

pytestmark = pytest.mark.slow

NO_VALIDATION = ["trainer.check_val_every_n_epoch=100", "trainer.max_steps=3"]


def step_of(path):
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


@pytest.mark.parametrize("exp,debug", [("drum_diffusion_demo", "tiny"), ("mel_diffusion_demo", "tiny")])
def test_a_run_that_stops_between_validations_ends_with_last_ckpt(tmp_path, data_dir, exp, debug):
    train(tiny_run_config(tmp_path, data_dir, exp, debug, tuple(NO_VALIDATION)))
    checkpoints = tmp_path / "run" / "checkpoints"
    assert {p.name for p in checkpoints.iterdir()} == {"last.ckpt"}
    saved = torch.load(checkpoints / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["global_step"] == 3
    # with EMA: the average is the state_dict and the online weights travel beside it
    assert saved["state_dict"].keys() == saved["current_model_state"].keys()
    assert any(not torch.equal(saved["state_dict"][k], saved["current_model_state"][k]) for k in saved["state_dict"])


def test_vae_and_latent_runs_end_with_last_ckpt(tmp_path, data_dir):
    vae_run, latent_run = tmp_path / "vae", tmp_path / "latent"
    train(run_config("vae_demo", [*VAE, *NO_VALIDATION], data_dir, vae_run))
    assert step_of(vae_run / "checkpoints" / "last.ckpt") == 3
    vae = vae_run / "checkpoints" / "last.ckpt"
    train(run_config("latent_diffusion_demo", [f"model.vae={vae}", *LATENT, *NO_VALIDATION], data_dir, latent_run))
    assert step_of(latent_run / "checkpoints" / "last.ckpt") == 3


def test_a_preempted_run_resumes_with_the_same_command_until_it_finishes(tmp_path, data_dir):
    """SIGTERM at step 3, then again at step 5: each time the process exits non-zero with last.ckpt
    at that step, and the same command continues the named run until max_steps."""
    args = ["exp=drum_diffusion_demo", "debug=tiny", f"paths.data_dir={data_dir}", f"paths.log_dir={tmp_path / 'logs'}",
            "run_name=preempted", "trainer.max_steps=8", "trainer.check_val_every_n_epoch=100",
            "+callbacks.preempt._target_=tests.training.preempt.SigtermAtSteps", "+callbacks.preempt.steps=[3,5]"]
    last = tmp_path / "logs" / "drum_diffusion_demo" / "runs" / "preempted" / "checkpoints" / "last.ckpt"
    for stopped_at in (3, 5):
        result = run_train(args, cwd=tmp_path)
        assert result.returncode == 143, result.stderr[-3000:]
        assert step_of(last) == stopped_at
        assert "stopped by SIGTERM" in result.stdout + result.stderr
    final = run_train(args, cwd=tmp_path)
    assert final.returncode == 0, final.stderr[-3000:]
    assert step_of(last) == 8
    assert len(list((tmp_path / "logs" / "drum_diffusion_demo" / "runs").iterdir())) == 1


def test_training_into_an_existing_run_folder_continues_it(tmp_path, data_dir):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", tuple(NO_VALIDATION))
    train(cfg)
    cfg.trainer.max_steps = 5
    train(cfg)  # the same folder, no ckpt: continues from its last.ckpt instead of starting over
    assert step_of(tmp_path / "run" / "checkpoints" / "last.ckpt") == 5


def test_sigterm_during_validation_saves_the_online_and_average_weights_in_their_places(tmp_path, data_dir):
    record = tmp_path / "seen.pt"
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", (
        "trainer.max_steps=8", "trainer.limit_val_batches=2", "datamodule.val_fraction=0.3",
        "+callbacks.preempt._target_=tests.training.preempt.SigtermInValidation", "+callbacks.preempt.step=4",
        f"+callbacks.preempt.record={record}"))
    with pytest.raises(SIGTERMException):
        train(cfg)
    saved = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    seen = torch.load(record, weights_only=True)
    assert saved["global_step"] == 4
    assert any(not torch.equal(seen["online"][k], seen["average"][k]) for k in seen["online"])
    for name, online in seen["online"].items():
        assert torch.equal(saved["current_model_state"][name], online), name
        assert torch.equal(saved["state_dict"][name], seen["average"][name]), name
