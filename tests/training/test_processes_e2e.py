"""Other processes through the whole path: train -> checkpoint -> export -> generate with the stored
sampler; the diffusers pipeline export refuses what it cannot run."""

from __future__ import annotations

import json

import pytest

from src.generation.diffusers_export import main as export_pipeline
from src.generation.export import export_checkpoint
from src.generation.sample import GenerateArgs, generate
from src.training.run import train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow
RUNS = [("mel_diffusion_demo", "tiny", "edm", "dpmpp_2m", 2), ("drum_diffusion_demo", "tiny", "rectified_flow", "dpmpp_2m", 2)]


@pytest.mark.parametrize(("exp", "debug", "process", "sampler", "evaluations"), RUNS)
def test_process_trains_exports_and_samples(exp, debug, process, sampler, evaluations, tmp_path, data_dir):
    gate = ("model.network.gate=false",) if exp.startswith("drum") else ()  # only v_cosine reads the demo's gate
    train(tiny_run_config(tmp_path, data_dir, exp, debug, (f"model/process={process}", *gate)))
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    exported = export_checkpoint(ckpt, tmp_path / "saved" / "model")
    out = generate(GenerateArgs(ckpt=str(exported), num_samples=1, steps=2, out_dir=str(tmp_path / "gen")))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sampling"]["sampler"] == sampler  # the process's default, stored with the model
    assert manifest["sampling"]["network_evaluations_per_clip"] == evaluations and manifest["sampling"]["steps"] == 2
    assert process in manifest["sampling"]["process"]
    if exp.startswith("mel"):
        with pytest.raises(ValueError, match=f"only model/process=ddpm models export to it, this one was trained "
                                             f"with the {process} process"):
            export_pipeline([f"ckpt={ckpt}", f"out_dir={tmp_path / 'pipe'}"])
