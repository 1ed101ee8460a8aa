"""LoRA fine-tuning: only the adapters train, they save on their own, and base + adapter, the LoRA
run itself and the merged export all sample the same audio. Gradient checkpointing and frozen blocks."""

from __future__ import annotations

import pytest
import soundfile as sf
import torch

from src.generation.export import export_checkpoint
from src.generation.sample import GenerateArgs, generate
from src.networks.adapters import LoraSettings, add_lora, adapted_layers, freeze
from src.networks.unetv0 import UNetV0Network
from src.training.run import train
from tests.conftest import tiny_run_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    """A tiny conditional base run, then a LoRA run (rank 4) started from it."""
    root = tmp_path_factory.mktemp("lora")
    train(tiny_run_config(root / "base", data_dir, "drum_diffusion_demo", "tiny"))
    base = root / "base" / "run" / "checkpoints" / "last.ckpt"
    train(tiny_run_config(root / "tuned", data_dir, "drum_diffusion_demo", "tiny",
                          (f"init_from={base}", "finetune.lora.rank=4", "finetune.lora.alpha=8", "trainer.max_steps=6",
                           "model.optimizer.lr=0.01", "model.scheduler=null")))  # six steps at the full rate, no warm-up
    return base, root / "tuned" / "run"


def test_only_the_adapters_train(runs):
    base, tuned = runs
    source = torch.load(base, map_location="cpu", weights_only=True)["state_dict"]
    state = torch.load(tuned / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    lora = {key: value for key, value in state.items() if "lora_" in key}
    assert lora and any(value.abs().sum() > 0 for key, value in lora.items() if "lora_B" in key)  # B starts at 0
    for key, value in state.items():
        if "lora_" not in key and "class_embedding" not in key:  # the class embedding trains too
            # equal up to the float rounding of the EMA's update of an unchanged weight
            assert torch.allclose(value, source[key.replace(".base_layer.", ".")], atol=1e-6), key


def test_adapter_file_base_plus_adapter_and_merged_export_sample_alike(runs, tmp_path):
    base, tuned = runs
    adapter = tuned / "adapter.pt"
    assert adapter.is_file() and adapter.stat().st_size < (tuned / "checkpoints" / "last.ckpt").stat().st_size / 5
    merged = export_checkpoint(tuned / "checkpoints" / "last.ckpt", tmp_path / "merged")
    assert not any("lora_" in key for key in torch.load(merged / "model.ckpt", weights_only=True)["state_dict"])
    outputs = {}
    for name, ckpt, extra in (("run", tuned / "checkpoints" / "last.ckpt", {}), ("base+adapter", base, {"adapter": str(adapter)}),
                              ("merged", merged, {}), ("base", base, {})):
        out = generate(GenerateArgs(ckpt=str(ckpt), num_samples=2, steps=3, label="kick", out_dir=str(tmp_path / name),
                                    **extra))
        outputs[name] = torch.stack([read_clip(out / f"sample_{i:03d}_kick.wav") for i in range(2)])
    assert torch.allclose(outputs["run"], outputs["base+adapter"], atol=1e-4)
    assert torch.allclose(outputs["run"], outputs["merged"], atol=1e-3)
    assert not torch.allclose(outputs["run"], outputs["base"], atol=1e-3)  # the adapters changed something


def read_clip(path):
    return torch.from_numpy(sf.read(path, dtype="float32")[0])


def network(**extra):
    return UNetV0Network(in_channels=1, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 1],
                         attention_heads=2, attention_features=8, modulation_features=32, **extra)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = network()
    checkpointed = network(gradient_checkpointing=True)
    checkpointed.load_state_dict(plain.state_dict())
    x, t = torch.randn(2, 1, 64), torch.rand(2)
    for net in (plain, checkpointed):
        net(x, t).square().mean().backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), checkpointed.named_parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name


def test_frozen_blocks_and_adapted_layer_types():
    net = network()
    frozen = freeze(net, [r"^net\.blocks\.0\."])
    assert frozen and all(not p.requires_grad for n, p in net.named_parameters() if n in frozen)
    with pytest.raises(ValueError, match="matches no parameter"):
        freeze(net, ["nothing_like_this"])
    layers = adapted_layers(net, None)
    kinds = {type(net.get_submodule(name)).__name__ for name in layers}
    assert kinds == {"Conv1d", "Linear"}  # what peft adapts in UNetV0
    add_lora(net, LoraSettings(rank=2))
    assert all(("lora_" in n or "class_embedding" in n) == p.requires_grad for n, p in net.named_parameters())
