"""The key=value parser every command and benchmark uses: typos are errors, --help answers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from src.utils.cli import HelpRequested, parse_cli
from tests.conftest import ROOT


def test_a_typo_in_dict_defaults_is_an_error_that_lists_the_keys():
    with pytest.raises(ValueError, match=r"'step'.*accepted: ckpt, steps"):
        parse_cli({"ckpt": "x", "steps": [1, 2]}, ["step=10"])
    assert parse_cli({"ckpt": "x", "steps": [1, 2]}, ["steps=[10]"]).steps == [10]


def test_help_lists_the_arguments_and_which_are_required():
    with pytest.raises(HelpRequested) as request:
        parse_cli({"ckpt": "???", "steps": 50}, ["--help"])
    assert "ckpt  (required)" in str(request.value) and "steps  (default 50)" in str(request.value)


@pytest.mark.parametrize("command", [["-m", "src.metrics.evaluate"], ["generate.py"], ["-m", "src.generation.export"],
                                     ["-m", "src.data.audio_to_images"],
                                     ["benchmarks/sampler_steps.py"]])
def test_every_command_answers_help(command):
    result = subprocess.run([sys.executable, *command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "arguments (key=value)" in result.stdout


def test_a_benchmark_refuses_a_typo():
    result = subprocess.run([sys.executable, "benchmarks/sampler_steps.py", "ckpt=x", "step=10"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "'step'" in result.stderr
