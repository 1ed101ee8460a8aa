"""Experiments hold only overrides: no value in exp/ may repeat what the configs already compose to."""

from __future__ import annotations

import copy
import shutil

import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import EXPERIMENTS, ROOT, compose_config


def composed(exp: str) -> dict:
    extra = ["model.vae=/some/vae.ckpt"] if "latent" in exp else []
    config = OmegaConf.to_container(compose_config([f"exp={exp}", "paths.output_dir=/out", *extra]), resolve=False)
    config.pop("hydra", None)
    config["paths"].pop("root_dir")  # differs between the real and the trial project root only
    return config


def leaves(node: dict, prefix: tuple = ()):
    for key, value in node.items():
        if key == "defaults":
            continue
        if isinstance(value, dict) and value:
            yield from leaves(value, (*prefix, key))
        else:
            yield (*prefix, key)


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_every_value_in_an_experiment_changes_the_composed_config(exp, tmp_path, monkeypatch):
    source = yaml.safe_load((ROOT / "exp" / f"{exp}.yaml").read_text())
    trial = tmp_path / "exp"
    shutil.copytree(ROOT / "exp", trial)
    monkeypatch.setenv("PROJECT_ROOT", str(tmp_path))  # the searchpath that finds exp/
    expected = composed(exp)
    redundant = []
    for leaf in leaves(source):
        if leaf == ("task_name",):
            continue
        without = copy.deepcopy(source)
        parent = without
        for key in leaf[:-1]:
            parent = parent[key]
        del parent[leaf[-1]]
        (trial / f"{exp}.yaml").write_text("# @package _global_\n" + yaml.safe_dump(without))
        if composed(exp) == expected:
            redundant.append(".".join(leaf))
    assert not redundant, f"exp/{exp}.yaml repeats defaults: {redundant}"
