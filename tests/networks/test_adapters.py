"""LoRA on UNet2DModel (the mel and latent families): what peft adapts, and that only adapters train."""

from __future__ import annotations

import torch
from diffusers import UNet2DModel

from src.networks.adapters import LoraSettings, add_lora, adapted_layers, merge_lora
from src.networks.unet2d import UNet2DNetwork


def network():
    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=[16, 16], in_channels=1, out_channels=1, layers_per_block=1,
                       block_out_channels=[8, 16], down_block_types=["DownBlock2D", "AttnDownBlock2D"],
                       up_block_types=["AttnUpBlock2D", "UpBlock2D"], norm_num_groups=4, attention_head_dim=4)
    return UNet2DNetwork(unet, num_classes=2)


def test_unet2d_adapters_train_alone_and_merge_back():
    net = network()
    assert {type(net.get_submodule(name)).__name__ for name in adapted_layers(net, None)} == {"Conv2d", "Linear"}
    x, t, labels = torch.randn(2, 1, 16, 16), torch.rand(2), torch.tensor([0, 1])
    before = net(x, t, labels).detach()
    base = {name: p.detach().clone() for name, p in net.named_parameters()}
    add_lora(net, LoraSettings(rank=2, alpha=4.0))
    assert torch.allclose(net(x, t, labels), before, atol=1e-6)  # adapters start as a no-op
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    for _ in range(3):  # lora_B starts at zero: lora_A only moves from the second step on
        optimizer.zero_grad()
        net(x, t, labels).square().mean().backward()
        optimizer.step()
    for name, parameter in net.named_parameters():
        plain = name.replace(".base_layer.", ".")
        if "lora_" not in name and "class_embedding" not in name:
            assert torch.equal(parameter, base[plain]), name
    tuned = net(x, t, labels).detach()
    assert not torch.allclose(tuned, before, atol=1e-4)
    merge_lora(net)
    assert not any("lora_" in name for name, _ in net.named_parameters())
    assert torch.allclose(net(x, t, labels), tuned, atol=1e-5)
