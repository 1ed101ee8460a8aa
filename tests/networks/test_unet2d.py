"""UNet2DNetwork (and the ddpm process's pipeline scheduler) on a tiny UNet2DModel."""

from __future__ import annotations

import logging

import hydra
import pytest
import torch
from diffusers import DDPMScheduler, UNet2DModel
from omegaconf import OmegaConf

from src.networks.unet2d import UNet2DNetwork
from src.processes.ddpm import DDPMProcess


def tiny_unet(sample_size: int = 16) -> UNet2DModel:
    torch.manual_seed(0)
    return UNet2DModel(
        sample_size=sample_size, in_channels=1, out_channels=1, layers_per_block=1,
        block_out_channels=(8, 16), norm_num_groups=4, attention_head_dim=4,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
    )


def test_c_noise_reaches_the_unet_as_diffusers_timesteps(monkeypatch):
    network = UNet2DNetwork(tiny_unet())
    seen = []
    original = network.unet.forward
    monkeypatch.setattr(network.unet, "forward", lambda x, t: seen.append(t) or original(x, t))
    network(torch.zeros(2, 1, 16, 16), torch.tensor([0.25, 0.999]))
    assert torch.allclose(seen[0], torch.tensor([250.0, 999.0]))


def test_pretrained_pipeline_folder_replaces_the_unet_and_scheduler(tmp_path, caplog):
    source = tiny_unet()
    source.save_pretrained(tmp_path / "pipe" / "unet")
    DDPMScheduler(num_train_timesteps=100, prediction_type="v_prediction").save_pretrained(tmp_path / "pipe" / "scheduler")
    other = UNet2DModel(sample_size=8, in_channels=1, out_channels=1, block_out_channels=(4, 4, 4), norm_num_groups=2,
                        attention_head_dim=2, down_block_types=("DownBlock2D",) * 3, up_block_types=("UpBlock2D",) * 3)
    with caplog.at_level(logging.INFO, logger="src.networks.unet2d"):
        network = UNet2DNetwork(other, pretrained=str(tmp_path / "pipe"))
    assert "architecture comes from" in caplog.text
    assert tuple(network.unet.config.block_out_channels) == (8, 16)
    for name, tensor in source.state_dict().items():
        assert torch.equal(tensor, network.unet.state_dict()[name]), name
    process = DDPMProcess(num_train_timesteps=1000, pretrained=str(tmp_path / "pipe"))
    assert process.scheduler.config.num_train_timesteps == 100 and process.prediction_type == "v_prediction"


def test_pretrained_unet_folder_keeps_the_configured_scheduler(tmp_path):
    tiny_unet().save_pretrained(tmp_path / "unet_only")
    network = UNet2DNetwork(None, pretrained=str(tmp_path / "unet_only"))
    assert all(module.training for module in network.modules())  # ready to fine-tune, not in eval mode
    assert DDPMProcess(num_train_timesteps=50, pretrained=str(tmp_path / "unet_only")).scheduler.config.num_train_timesteps == 50
    assert torch.equal(network.unet.conv_in.weight, tiny_unet().conv_in.weight)


def test_pretrained_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        UNet2DNetwork(None, pretrained=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="config.json found"):
        UNet2DNetwork(None, pretrained=str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="UNet2DModel"):
        UNet2DNetwork(None)
    with pytest.raises(ValueError, match="time_scale must be positive"):
        UNet2DNetwork(tiny_unet(), time_scale=0)


def conv_weight(network: UNet2DNetwork) -> torch.Tensor:
    return network.unet.down_blocks[0].resnets[0].conv1.weight  # 8 -> 8 channels: layouts differ


def test_gradient_checkpointing_and_channels_last_take_effect():
    process = DDPMProcess(num_train_timesteps=100)
    plain = UNet2DNetwork(tiny_unet())
    assert not plain.unet.is_gradient_checkpointing
    assert not conv_weight(plain).is_contiguous(memory_format=torch.channels_last)
    network = UNet2DNetwork(tiny_unet(), gradient_checkpointing=True, channels_last=True)
    assert network.unet.is_gradient_checkpointing
    assert conv_weight(network).is_contiguous(memory_format=torch.channels_last)
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    torch.manual_seed(0)
    loss = process.loss(network, x)
    loss.backward()
    torch.manual_seed(0)
    assert torch.allclose(loss, process.loss(plain, x), atol=1e-5)  # same weights, same noise: same loss


def test_check_shape_names_the_setting():
    network = UNet2DNetwork(tiny_unet())
    network.check_shape((1, 16, 48))
    with pytest.raises(ValueError, match="width 17 is not a multiple"):
        network.check_shape((1, 16, 17))
    with pytest.raises(ValueError, match="height 15"):
        network.check_shape((1, 15, 16))
    with pytest.raises(ValueError, match="2 channels"):
        network.check_shape((2, 16, 16))


def test_hydra_lists_become_plain_json_config(tmp_path):
    """Hydra hands lists over as ListConfig; the saved configs must still be plain JSON."""
    cfg = OmegaConf.create({
        "_target_": "src.networks.unet2d.UNet2DNetwork",
        "unet": {"_target_": "diffusers.UNet2DModel", "sample_size": [16, 16], "in_channels": 1, "out_channels": 1,
                 "block_out_channels": [8, 16], "norm_num_groups": 4, "attention_head_dim": 4,
                 "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
                 "up_block_types": ["AttnUpBlock2D", "UpBlock2D"]},
    })
    network = hydra.utils.instantiate(cfg)
    assert type(network.unet.config.block_out_channels) is list
    network.unet.save_pretrained(tmp_path / "unet")
    assert UNet2DModel.load_config(str(tmp_path / "unet"))["sample_size"] == [16, 16]
