"""The run folder's name: run_name, a batch SLURM job's id, or the start time."""

from __future__ import annotations

import re

import pytest

from src.utils.resolvers import run_folder_name

SLURM_VARIABLES = ("SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "WORLD_SIZE")


@pytest.fixture(autouse=True)
def no_slurm(monkeypatch):
    for name in SLURM_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_run_name_wins_over_everything(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert run_folder_name("my-run") == "my-run"


def test_without_a_name_the_start_time_names_a_new_run():
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", run_folder_name(None))


def test_a_batch_slurm_job_names_its_folder_by_job_id(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_JOB_NAME", "drums")
    assert run_folder_name(None) == "slurm-42"
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "40")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    assert run_folder_name(None) == "slurm-40_3"


def test_an_interactive_allocation_still_starts_new_runs(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_JOB_NAME", "bash")
    assert run_folder_name(None) != "slurm-42"


@pytest.mark.parametrize("bad", ["a/b", "..", "."])
def test_a_run_name_must_be_a_plain_folder_name(bad):
    with pytest.raises(ValueError, match="run_name"):
        run_folder_name(bad)


def test_processes_launched_separately_must_agree_on_a_name(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "8")  # torchrun
    with pytest.raises(ValueError, match="run_name"):
        run_folder_name(None)
    assert run_folder_name("shared") == "shared"
    monkeypatch.setenv("SLURM_JOB_ID", "42")  # srun: every task shares the job id
    monkeypatch.setenv("SLURM_JOB_NAME", "drums")
    assert run_folder_name(None) == "slurm-42"
