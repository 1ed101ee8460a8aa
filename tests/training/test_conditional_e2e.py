"""Class-conditional training end to end: labels from the kit's folders -> a conditional model ->
per-class validation samples -> generate.py with label=, label=all, label2= -> exports."""

from __future__ import annotations

import json

import pytest
import torch

from src.generation.export import export_checkpoint
from src.generation.sample import GenerateArgs, generate
from src.training.fit_check import CheckpointMismatch
from src.training.run import train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow
KIT = ["hihat", "kick", "snare"]


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory, data_dir):
    tmp_path = tmp_path_factory.mktemp("conditional")
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", ("datamodule.dataset.labels=folder",))
    train(cfg)
    return tmp_path / "run"


def test_the_vocabulary_comes_from_the_data_and_travels_in_the_checkpoint(conditional_run):
    checkpoint = torch.load(conditional_run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    model = checkpoint["config"]["model"]
    assert model["labels"] == KIT and model["network"]["num_classes"] == 3
    assert checkpoint["state_dict"]["network.class_embedding.weight"].shape[0] == 4  # 3 classes + the null label
    names = sorted(p.name for p in (conditional_run / "samples" / "step_0000004").glob("*.wav"))
    assert names == [f"sample_00_{label}.wav" for label in KIT]  # every class, from the same noise


def test_generate_by_label_all_labels_and_without_a_label(conditional_run, tmp_path):
    ckpt = str(conditional_run / "checkpoints" / "last.ckpt")
    out = generate(GenerateArgs(ckpt=ckpt, num_samples=2, steps=3, label="all", cfg_scale=2.0, out_dir=str(tmp_path / "all")))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == [f"sample_{i:03d}_{label}.wav" for i, label in enumerate(sorted(KIT * 2))]
    assert manifest["sampling"]["labels"] == sorted(KIT * 2) and manifest["sampling"]["cfg_scale"] == 2.0
    assert manifest["sampling"]["network_evaluations_per_clip"] == 6  # guidance: two per step
    snare = generate(GenerateArgs(ckpt=ckpt, num_samples=1, steps=3, label="snare", out_dir=str(tmp_path / "snare")))
    snare_sampling = json.loads((snare / "manifest.json").read_text())["sampling"]
    assert snare_sampling["cfg_scale"] == 1.0 and snare_sampling["network_evaluations_per_clip"] == 3  # the demo's default
    plain = generate(GenerateArgs(ckpt=ckpt, num_samples=1, steps=3, out_dir=str(tmp_path / "plain")))
    assert (plain / "sample_000.wav").is_file()
    with pytest.raises(ValueError, match="unknown label 'tom'; the known labels are: hihat, kick, snare"):
        generate(GenerateArgs(ckpt=ckpt, num_samples=1, steps=3, label="tom", out_dir=str(tmp_path / "tom")))


def test_generate_with_any_label_names_each_clip_by_its_drawn_label(conditional_run, tmp_path):
    ckpt = str(conditional_run / "checkpoints" / "last.ckpt")
    out = generate(GenerateArgs(ckpt=ckpt, num_samples=5, steps=2, label="any", seed=3, out_dir=str(tmp_path / "any")))
    manifest = json.loads((out / "manifest.json").read_text())
    labels = manifest["sampling"]["labels"]
    assert len(labels) == 5 and labels == sorted(labels) and set(labels) <= set(KIT)
    assert manifest["files"] == [f"sample_{i:03d}_{label}.wav" for i, label in enumerate(labels)]
    again = generate(GenerateArgs(ckpt=ckpt, num_samples=5, steps=2, label="any", seed=3, out_dir=str(tmp_path / "again")))
    assert json.loads((again / "manifest.json").read_text())["files"] == manifest["files"]


@pytest.mark.parametrize("mode", ["variation", "inpaint", "continue", "interpolate"])
def test_every_mode_takes_a_label(conditional_run, tmp_path, mode):
    ckpt = str(conditional_run / "checkpoints" / "last.ckpt")
    seed_clip = generate(GenerateArgs(ckpt=ckpt, num_samples=1, steps=2, label="kick", out_dir=str(tmp_path / "in")))
    clip = str(seed_clip / "sample_000_kick.wav")
    args = GenerateArgs(ckpt=ckpt, mode=mode, num_samples=2, steps=3, label="snare", init_audio=clip,
                        init_audio2=clip, mask_start_secs=0.1, segments=1, overlap=0.1, crossfade=0.01,
                        out_dir=str(tmp_path / mode))
    if mode == "interpolate":
        args.num_samples, args.label, args.label2 = 3, "kick", "snare"
    out = generate(args)
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert len(files) == args.num_samples and all((out / name).is_file() for name in files)


def test_interpolating_between_labels_mixes_their_embeddings(conditional_run, tmp_path):
    """The middle clip of kick -> snare differs from both single-label interpolations."""
    ckpt = str(conditional_run / "checkpoints" / "last.ckpt")
    clip = str(generate(GenerateArgs(ckpt=ckpt, num_samples=1, steps=2, out_dir=str(tmp_path / "in"))) / "sample_000.wav")
    middles = {}
    for first, second in (("kick", "kick"), ("snare", "snare"), ("kick", "snare")):
        out = generate(GenerateArgs(ckpt=ckpt, mode="interpolate", num_samples=3, steps=3, label=first, label2=second,
                                    init_audio=clip, init_audio2=clip, out_dir=str(tmp_path / f"{first}-{second}")))
        middles[first, second] = (out / f"sample_001_{first}.wav").read_bytes()
    assert middles["kick", "snare"] not in (middles["kick", "kick"], middles["snare", "snare"])


def test_resuming_on_data_with_other_labels_stops(conditional_run, tmp_path, data_dir):
    table = tmp_path / "labels.csv"
    files = sorted((data_dir / "demo_drums").rglob("*.wav"))
    table.write_text("file,label\n" + "".join(f"{p.relative_to(data_dir / 'demo_drums').as_posix()},"
                                             f"{'tom' if 'kick' in p.name else p.parent.name}\n" for p in files))
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny",
                          (f"datamodule.dataset.labels={table}", f"ckpt={conditional_run / 'checkpoints' / 'last.ckpt'}"))
    with pytest.raises(CheckpointMismatch, match=r"trained on the labels \['hihat', 'kick', 'snare'\]"):
        train(cfg)


def test_a_conditional_model_needs_labelled_data(tmp_path, data_dir):
    cfg = tiny_run_config(tmp_path, data_dir, "drum_diffusion_demo", "tiny", ("model.labels=[kick,snare]", "datamodule.dataset.labels=none"))
    with pytest.raises(ValueError, match="the data has no labels: set datamodule.dataset.labels"):
        train(cfg)


def test_the_export_carries_the_vocabulary(conditional_run, tmp_path):
    out = export_checkpoint(conditional_run / "checkpoints" / "last.ckpt", tmp_path / "saved")
    exported = torch.load(out / "model.ckpt", map_location="cpu", weights_only=True)
    assert exported["labels"] == KIT
    made = generate(GenerateArgs(ckpt=str(out), num_samples=1, steps=2, label="hihat", out_dir=str(tmp_path / "g")))
    assert (made / "sample_000_hihat.wav").is_file()
