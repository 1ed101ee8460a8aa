"""Processes by name for parametrised tests, and a tiny waveform network."""

from __future__ import annotations

import torch

from src.networks.unetv0 import UNetV0Network
from src.processes.base import Process
from src.processes.ddpm import DDPMProcess
from src.processes.edm import EDMProcess
from src.processes.rectified_flow import RectifiedFlowProcess
from src.processes.v_cosine import VCosineProcess

PROCESSES = {
    "v_cosine": VCosineProcess,
    "edm": lambda: EDMProcess(sigma_data=0.5),
    "rectified_flow": RectifiedFlowProcess,
    "ddpm": lambda: DDPMProcess(num_train_timesteps=1000, prediction_type="v_prediction", clip_sample=False),
    "ddpm_eps": lambda: DDPMProcess(num_train_timesteps=1000, prediction_type="epsilon", clip_sample=False),
}


def make_process(name: str) -> Process:
    return PROCESSES[name]()


def tiny_unetv0(seed: int = 0, channels: int = 16) -> UNetV0Network:
    torch.manual_seed(seed)
    return UNetV0Network(in_channels=1, channels=[channels, channels], factors=[1, 2], items=[1, 1],
                         attentions=[0, 0], resnet_groups=4, modulation_features=32)
