"""Lightning's ThroughputMonitor, told how to count audio batches."""

from __future__ import annotations

import torch
from pytorch_lightning.callbacks import ThroughputMonitor


def clips_in(batch: torch.Tensor) -> int:
    return int(batch.shape[0])


def frames_in(batch: torch.Tensor) -> int:
    return int(batch.shape[0] * batch.shape[-1])


class AudioThroughputMonitor(ThroughputMonitor):
    """Logs `train/samples_per_sec` (clips/s) and `train/items_per_sec` (audio frames/s;
    divide by the sample rate for seconds of audio trained on per second)."""

    def __init__(self, window_size: int = 20) -> None:
        super().__init__(batch_size_fn=clips_in, length_fn=frames_in, window_size=window_size)
