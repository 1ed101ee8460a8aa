"""generate.py's label= forms: one name, all, any (a label drawn per clip), none."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from src.generation.modes.runners import label_runs
from src.generation.sample import GenerateArgs

MODEL = SimpleNamespace(labels=("hihat", "kick", "snare"), label_ids=lambda names: None)


def runs(seed: int = 0, **args) -> list[tuple[str | None, int]]:
    made = label_runs(GenerateArgs(ckpt="unused", **args), MODEL, torch.Generator().manual_seed(seed))
    return [(label, run.num_samples) for label, run in made]


def test_any_draws_a_label_per_clip_grouped_in_vocabulary_order():
    drawn = runs(label="any", num_samples=60)
    assert [label for label, _ in drawn] == ["hihat", "kick", "snare"]
    assert sum(count for _, count in drawn) == 60
    assert all(10 <= count <= 30 for _, count in drawn)  # equal odds: 20 each on average


def test_any_is_fixed_by_the_seed_and_changes_with_it():
    assert runs(seed=3, label="any", num_samples=7) == runs(seed=3, label="any", num_samples=7)
    assert len({tuple(runs(seed=s, label="any", num_samples=7)) for s in range(5)}) > 1


def test_a_label_drawn_for_no_clip_is_not_run():
    drawn = runs(label="any", num_samples=1)
    assert len(drawn) == 1 and drawn[0][1] == 1


def test_the_other_forms_keep_the_count():
    assert runs(label="kick", num_samples=4) == [("kick", 4)]
    assert runs(label="all", num_samples=2) == [("hihat", 2), ("kick", 2), ("snare", 2)]
    assert runs(label=None, num_samples=3) == [(None, 3)]


def test_any_copies_the_command_line_config_too():
    args = OmegaConf.structured(GenerateArgs(ckpt="unused", label="any", num_samples=5))
    made = label_runs(args, MODEL, torch.Generator().manual_seed(0))
    assert sum(run.num_samples for _, run in made) == 5 and args.num_samples == 5


def test_any_refuses_interpolation():
    with pytest.raises(ValueError, match="label=any.*interpolation"):
        runs(label="any", mode="interpolate", num_samples=3)
