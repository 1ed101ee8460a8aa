"""Lightning's ThroughputMonitor, told how to count audio batches."""

from __future__ import annotations

from functools import partial

from typing import Any

from pytorch_lightning.callbacks import ThroughputMonitor

from src.data.file_dataset import split_batch


def clips_in(batch: Any) -> int:
    return int(split_batch(batch)[0].shape[0])


def frames_in(batch: Any, clip_length: int) -> int:
    """Audio frames a batch stands for: clips x the clip length in samples. A batch may hold audio,
    mel images or VAE latents (labelled or not), whose last axis is not time in samples, so it is
    not read from there."""
    return clips_in(batch) * clip_length


class AudioThroughputMonitor(ThroughputMonitor):
    """Logs `train/device/samples_per_sec` (clips/s) and `train/device/items_per_sec` (audio frames/s;
    divide by the sample rate for seconds of audio trained on per second) per device, for every family
    alike; with several devices Lightning adds the totals, `train/samples_per_sec` and
    `train/items_per_sec`. Each is a rate over the last `window_size` batches, so the first appears
    after that many."""

    def __init__(self, clip_length: int, window_size: int = 20) -> None:
        if clip_length <= 0:
            raise ValueError(f"clip_length must be positive (audio samples per clip), got {clip_length}")
        super().__init__(batch_size_fn=clips_in, length_fn=partial(frames_in, clip_length=clip_length),
                         window_size=window_size)
