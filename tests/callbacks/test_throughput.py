"""Throughput counts seconds of audio, whether a batch holds audio, mel images or latents."""

import pytest
import torch

from src.callbacks.throughput import AudioThroughputMonitor


@pytest.mark.parametrize("batch", [torch.zeros(4, 1, 16384), torch.zeros(4, 1, 64, 64), torch.zeros(4, 4, 16, 16)])
def test_frames_are_clips_times_the_clip_length(batch):
    monitor = AudioThroughputMonitor(clip_length=16384)
    assert monitor.batch_size_fn(batch) == 4
    assert monitor.length_fn(batch) == 4 * 16384


def test_the_clip_length_must_be_positive():
    with pytest.raises(ValueError, match="clip_length"):
        AudioThroughputMonitor(clip_length=0)
