"""Training-time augmentation of audio clips that keeps what a one-shot sounds like.

A small folder of one-shots is seen hundreds of times in a run (the demo kit's 44 training clips
about 700 times each). Flipping a clip's polarity or changing its level makes another waveform of
the same hit, so the network sees more distinct inputs without a change in the sounds it should
learn. On the waveform demo neither helped (benchmarks/README.md, "cheaper steps"), so both are off
by default; a folder whose sounds come in both polarities or at many levels is where they fit."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from src.data.file_dataset import item_input


@dataclass
class ClipAugment:
    """polarity: multiply half the clips by -1. gain_db: scale each clip by a level drawn uniformly
    from [-gain_db, +gain_db] dB. Both off (false, 0) leave clips untouched."""

    polarity: bool = False
    gain_db: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gain_db <= 24.0:
            raise ValueError(f"datamodule.augment.gain_db must be in [0, 24] dB, got {self.gain_db}")

    @property
    def active(self) -> bool:
        return self.polarity or self.gain_db > 0

    def factor(self, seed: int) -> float:
        """The clip's multiplier, drawn from its item seed, so a resumed run sees the same clips."""
        generator = torch.Generator().manual_seed(seed)
        draws = torch.rand(2, generator=generator).tolist()
        sign = -1.0 if self.polarity and draws[0] < 0.5 else 1.0
        return sign * 10 ** ((2 * draws[1] - 1) * self.gain_db / 20)


class AugmentedClips(Dataset):
    """`dataset` with `augment` applied to the items the training sampler asks for, by `(index, seed)`.
    A plain `index` (a reference set read from the training split) gets the clip as recorded."""

    def __init__(self, dataset: Dataset, augment: ClipAugment) -> None:
        self.dataset = dataset
        self.augment = augment

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: int | tuple[int, int]) -> torch.Tensor | tuple[torch.Tensor, int]:
        item = self.dataset[key]
        if not isinstance(key, tuple):
            return item
        index, seed = key
        # A stream of its own: the crop seed also picks the window of a random crop.
        clip = item_input(item) * self.augment.factor(seed * 7919 + index + 1)
        return (clip, item[1]) if isinstance(item, tuple) else clip
