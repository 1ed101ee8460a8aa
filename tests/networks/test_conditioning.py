"""Class embeddings in both networks, guidance, and label dropout."""

from __future__ import annotations

import pytest
import torch
from diffusers import UNet2DModel

from src.networks.conditioning import Guided, WithLabels, drop_labels, one_label
from src.networks.unet2d import UNet2DNetwork
from src.networks.unetv0 import UNetV0Network


def unetv0(num_classes: int = 3) -> UNetV0Network:
    torch.manual_seed(0)
    return UNetV0Network(in_channels=1, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                         modulation_features=16, num_classes=num_classes)


def unet2d(num_classes: int = 3) -> UNet2DNetwork:
    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1, block_out_channels=(8, 16),
                       down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
                       norm_num_groups=4)
    return UNet2DNetwork(unet, num_classes=num_classes)


@pytest.mark.parametrize("make,shape", [(unetv0, (4, 1, 32)), (unet2d, (4, 1, 8, 8))])
def test_labels_change_the_output_and_none_is_the_null_class(make, shape):
    net = make()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))  # diffusers starts some layers at zero
        x, t = torch.randn(shape), torch.rand(shape[0])
        kick, snare = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
        assert not torch.allclose(net(x, t, kick), net(x, t, snare))
        assert torch.allclose(net(x, t, None), net(x, t, torch.full((4,), 3)))
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\]"):
        net(x, t, torch.tensor([0, 1, 2, 4]))


def test_a_network_without_classes_refuses_labels():
    with pytest.raises(ValueError, match="num_classes=0"):
        unetv0(0)(torch.randn(2, 1, 32), torch.rand(2), torch.zeros(2, dtype=torch.long))


def test_the_unet2d_class_embedding_is_in_its_config():
    net = unet2d(5)
    assert net.unet.config.num_class_embeds == 6 and net.num_classes == 5
    with pytest.raises(ValueError, match="num_class_embeds=6"):
        UNet2DNetwork(net.unet, num_classes=2)


def test_guidance_is_the_extrapolation_from_null_to_label():
    net = unetv0()
    x, t, labels = torch.randn(2, 1, 32), torch.rand(2), torch.tensor([0, 2])
    with torch.no_grad():
        conditional, unconditional = net(x, t, labels), net(x, t, None)
        assert torch.allclose(Guided(net, labels, 1.0)(x, t), conditional)
        assert torch.allclose(Guided(net, labels, 0.0)(x, t), unconditional)
        expected = unconditional + 3.0 * (conditional - unconditional)
        assert torch.allclose(Guided(net, labels, 3.0)(x, t), expected, atol=1e-5)
        assert torch.allclose(WithLabels(net, labels)(x, t), conditional)


def test_label_dropout_rate():
    torch.manual_seed(0)
    labels = torch.zeros(20000, dtype=torch.long)
    dropped = drop_labels(labels, 0.1, num_classes=3)
    assert set(dropped.unique().tolist()) == {0, 3}
    assert abs((dropped == 3).float().mean().item() - 0.1) < 0.01
    assert torch.equal(drop_labels(labels, 0.0, 3), labels)


def test_one_label_gives_a_class_id_per_item_or_the_null_label():
    assert one_label(None, 3) is None
    ids = one_label(2, 3)
    assert ids.dtype == torch.long and ids.tolist() == [2, 2, 2]
