"""UNetV0Network: the optional position and level channels, and patches."""

import math

import pytest
import torch

from src.networks.unetv0 import UNetV0Network


def tiny(position_features: int, dim: int = 1) -> UNetV0Network:
    torch.manual_seed(0)
    return UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                         modulation_features=16, dim=dim, position_features=position_features)


@pytest.mark.parametrize("dim,shape", [(1, (3, 2, 32)), (2, (3, 2, 8, 16))])
def test_position_features_keep_the_output_shape(dim, shape):
    net = tiny(3, dim)
    x = torch.randn(shape)
    assert net(x, torch.rand(shape[0])).shape == x.shape
    positions = net.positions(x)
    assert positions.shape == (shape[0], 3, *shape[2:])
    # the first feature runs from cos(0) = 1 at the clip's start to cos(pi) = -1 at its end
    assert torch.allclose(positions[..., 0], torch.ones(()))
    assert torch.allclose(positions[..., -1][:, 0], -torch.ones(()))


def interior_spread(position_features: int) -> float:
    net = tiny(position_features)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
        y = net(torch.zeros(1, 2, 256), torch.tensor([0.5]))
    # frames far from both edges, where zero padding cannot reach
    return y[..., 64:-64].std(dim=-1).min().item()


def test_position_features_tell_the_network_where_it_is():
    """On a constant input a convolutional net answers the same in every interior frame; with
    position features it can answer differently along the clip."""
    assert interior_spread(0) < 1e-6
    assert interior_spread(4) > 1e-3


def test_zero_position_features_is_plain_unetv0():
    assert sum(p.numel() for p in tiny(0).parameters()) < sum(p.numel() for p in tiny(2).parameters())
    with pytest.raises(ValueError, match="position_features"):
        tiny(-1)


def test_patches_fold_samples_into_channels_and_back():
    net = UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                        modulation_features=16, patch_size=4, position_features=2)
    x = torch.arange(2 * 2 * 16, dtype=torch.float32).reshape(2, 2, 16)
    folded = net.fold(x)
    assert folded.shape == (2, 8, 4)
    # channel 0's first patch (samples 0..3) becomes channels 0..3 of frame 0
    assert folded[0, :4, 0].tolist() == x[0, 0, :4].tolist()
    assert torch.equal(net.unfold(folded, 16), x)
    assert net(torch.randn(3, 2, 32), torch.rand(3)).shape == (3, 2, 32)
    with pytest.raises(ValueError, match="patch_size"):
        net.check_shape((2, 36))  # 36 samples are not a multiple of 2 * 4
    with pytest.raises(ValueError, match="patch_size"):
        UNetV0Network(in_channels=1, channels=[8], factors=[1], items=[1], attentions=[0], patch_size=2, dim=2)


@pytest.mark.parametrize("patch_size", [1, 4])
def test_input_gain_passes_each_input_sample_on_with_the_gain_the_unet_sets(patch_size):
    net = UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                        modulation_features=16, patch_size=patch_size, position_features=2, input_gain=True)
    x = torch.randn(3, 2, 32)
    assert net(x, torch.rand(3)).shape == x.shape
    folded_channels = 2 * patch_size

    def residual_zero_gain_ramp(inputs, c_noise, features):
        assert inputs.shape[1] == folded_channels + 2  # the positions go in, not out
        gain = torch.linspace(0.0, 3.0, inputs.shape[-1]).expand(inputs.shape[0], folded_channels, -1)
        return torch.cat([torch.zeros_like(gain), gain], dim=1)

    net._unet = residual_zero_gain_ramp
    expected = net.unfold(net.fold(x) * torch.linspace(0.0, 3.0, 32 // patch_size), 32)
    assert torch.allclose(net(x, torch.rand(3)), expected)
    assert expected[..., 0].abs().max() == 0 and expected.abs().max() > 0  # a zero gain silences its stretch


@pytest.mark.parametrize("patch_size", [1, 4])
def test_gate_returns_a_prediction_and_a_log_power_per_input_element(patch_size):
    net = UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                        modulation_features=16, patch_size=patch_size, position_features=2, gate=True)
    x = torch.randn(3, 2, 32)
    assert net(x, torch.rand(3)).shape == (3, 4, 32)

    def halves_hold_the_input_and_its_double(inputs, c_noise, features):
        folded = inputs[:, : 2 * patch_size]  # without the positions
        return torch.cat([folded, 2 * folded], dim=1)

    net._unet = halves_hold_the_input_and_its_double
    assert torch.allclose(net(x, torch.rand(3)), torch.cat([x, 2 * x], dim=1))  # each half unfolds like the input
    with pytest.raises(ValueError, match="input_gain and gate"):
        UNetV0Network(in_channels=1, channels=[8], factors=[1], items=[1], attentions=[0], input_gain=True, gate=True)


def test_level_features_give_each_channel_its_local_log_power():
    net = UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                        modulation_features=16, level_features=True, position_features=2)
    x = torch.zeros(1, 2, 64)
    x[0, 0, :32] = 2.0 * torch.tensor([1.0, -1.0]).repeat(16)  # a loud first half, then silence
    x[0, 1] = 0.5
    levels = net.levels(x)
    assert levels.shape == x.shape
    # a channel at a steady level reads log(power + floor) / 4, with the ends averaged over fewer frames alike
    assert torch.allclose(levels[0, 1], torch.full((64,), 0.25 * math.log(0.25 + 1e-4)))
    assert torch.allclose(levels[0, 0, :30], torch.full((30,), 0.25 * math.log(4.0 + 1e-4)))
    assert torch.allclose(levels[0, 0, 34:], torch.full((30,), 0.25 * math.log(1e-4)))
    assert net(x, torch.rand(1)).shape == x.shape
    plain = UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                          modulation_features=16, position_features=2)
    # the level channels widen only the first convolution's input
    assert sum(p.numel() for p in net.parameters()) > sum(p.numel() for p in plain.parameters())


def test_level_window_sets_how_far_the_level_reaches():
    x = torch.zeros(1, 1, 64)
    x[0, 0, 20] = 1.0  # one loud frame in silence
    widths = {}
    for window in (5, 15):
        net = UNetV0Network(in_channels=1, channels=[8], factors=[1], items=[1], attentions=[0],
                            modulation_features=16, level_features=True, level_window=window)
        lit = net.levels(x)[0, 0] > 0.25 * math.log(1e-4) + 1e-3  # above the silent floor
        widths[window] = int(lit.sum())
    assert widths == {5: 5, 15: 15}  # the frame lifts the level of every frame whose window holds it
    with pytest.raises(ValueError, match="level_window"):
        UNetV0Network(in_channels=1, channels=[8], factors=[1], items=[1], attentions=[0], level_window=4)


def test_level_features_follow_patches():
    net = UNetV0Network(in_channels=1, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                        modulation_features=16, patch_size=4, level_features=True)
    assert net(torch.randn(2, 1, 32), torch.rand(2)).shape == (2, 1, 32)
