"""Importing a tiny-audio-diffusion checkpoint: built here in its layout (Lightning 1.x, an ADP
DiffusionModel with an ema_pytorch EMA) with random weights and a tiny UNetV0."""

from __future__ import annotations

import copy
import pathlib

import pytest
import torch
from audio_diffusion_pytorch import DiffusionModel, UNetV0

from src.checkpoints.files import CheckpointError
from src.generation.checkpoint import load_model
from src.generation.import_tad import import_tad, main
from src.generation.sample import GenerateArgs, generate

TAD_YAML = """# @package _global_
module: main.diffusion_module
sampling_rate: 8000
length: 1024
channels: 2
model:
  _target_: ${module}.Model
  lr: 1e-4
  model:
    _target_: audio_diffusion_pytorch.DiffusionModel
    net_t:
      _target_: ${module}.NET
    in_channels: 2
    channels: [8, 16]
    factors: [1, 2]
    items: [1, 1]
    attentions: [0, 1]
    attention_heads: 2
    attention_features: 8
datamodule:
  dataset:
    transforms:
      loudness: -20
callbacks:
  model_checkpoint:
    dirpath: ${logs_dir}/ckpts/${now:%Y-%m-%d-%H-%M-%S}
"""


@pytest.fixture
def tad_files(tmp_path):
    """A checkpoint in tiny-audio-diffusion's layout: online weights under model.*, ADP's copies of the
    net under its diffusion and sampler, the EMA under model_ema.ema_model.* and, as old ema_pytorch
    saved it, model_ema.online_model.*."""
    torch.manual_seed(0)
    online = DiffusionModel(net_t=UNetV0, in_channels=2, channels=[8, 16], factors=[1, 2], items=[1, 1],
                            attentions=[0, 1], attention_heads=2, attention_features=8)
    ema = copy.deepcopy(online)
    with torch.no_grad():
        for parameter in ema.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    state = {f"model.{k}": v for k, v in online.state_dict().items()}
    state |= {f"model_ema.ema_model.{k}": v for k, v in ema.state_dict().items()}
    state |= {f"model_ema.online_model.{k}": v for k, v in online.state_dict().items()}
    state |= {"model_ema.initted": torch.tensor(True), "model_ema.step": torch.tensor(1200)}
    checkpoint = {"epoch": 7, "global_step": 1200, "pytorch-lightning_version": "1.7.7", "state_dict": state,
                  "callbacks": {"ModelCheckpoint": {"dirpath": pathlib.PosixPath("/logs/ckpts")}},
                  "optimizer_states": [], "lr_schedulers": []}
    ckpt, config = tmp_path / "tad.ckpt", tmp_path / "drum_diffusion.yaml"
    torch.save(checkpoint, ckpt)
    config.write_text(TAD_YAML.replace("NET", "UNetT"))
    return ckpt, config, online, ema


def test_the_import_holds_the_ema_weights_and_samples_under_v_diffusion(tad_files, tmp_path, monkeypatch):
    ckpt, config, online, ema = tad_files
    monkeypatch.chdir(tmp_path)
    out = import_tad(ckpt, config, tmp_path / "saved" / "tad_kicks")
    assert {p.name for p in tmp_path.iterdir()} == {"saved", ckpt.name, config.name}  # nothing else written here
    model, run_config = load_model(out)
    for name, tensor in ema.net.state_dict().items():
        assert torch.equal(model.network.net.state_dict()[name], tensor), name
    assert model.process.name == "v_cosine" and model.representation.channels == 2
    assert run_config["audio"] == {"sample_rate": 8000, "channels": 2, "length": 1024}
    assert run_config["datamodule"]["dataset"]["normalize_lufs"] == -20  # its loudness transform, kept visible
    generated = generate(GenerateArgs(ckpt=str(out), num_samples=1, steps=2, out_dir=str(tmp_path / "gen")))
    assert (generated / "sample_000.wav").is_file()
    variation = generate(GenerateArgs(ckpt=str(out), mode="variation", init_audio=str(generated / "sample_000.wav"),
                                      num_samples=1, steps=2, out_dir=str(tmp_path / "var")))
    assert (variation / "sample_000.wav").is_file()


def test_online_weights_on_request(tad_files, tmp_path):
    ckpt, config, online, _ = tad_files
    main([f"ckpt={ckpt}", f"config={config}", "name=online", "weights=online", f"out_root={tmp_path}"])
    model, _ = load_model(tmp_path / "online")
    for name, tensor in online.net.state_dict().items():
        assert torch.equal(model.network.net.state_dict()[name], tensor), name


def test_variants_we_cannot_rebuild_and_foreign_files_are_refused(tad_files, tmp_path):
    ckpt, config, _, _ = tad_files
    learned = tmp_path / "lt.yaml"
    learned.write_text(TAD_YAML.replace("NET", "UNetT_LT"))
    with pytest.raises(CheckpointError, match="UNetT_LT"):
        import_tad(ckpt, learned, tmp_path / "lt")
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(TAD_YAML.replace("NET", "UNetT").replace("channels: [8, 16]", "channels: [8, 32]"))
    with pytest.raises(CheckpointError, match="do not fit"):
        import_tad(ckpt, bigger, tmp_path / "bigger")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"encoder.weight": torch.zeros(1)}}, foreign)
    with pytest.raises(CheckpointError, match="no ema weights under model_ema.ema_model.net"):
        import_tad(foreign, config, tmp_path / "foreign")
    unsafe = tmp_path / "unsafe.ckpt"
    torch.save({"state_dict": {}, "payload": copy.deepcopy}, unsafe)  # a global no checkpoint needs
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        import_tad(unsafe, config, tmp_path / "unsafe")
