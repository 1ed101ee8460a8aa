"""What the audio-clip and mel-image datasets share: items loaded file by file, a file that turns
out unreadable skipped with one warning, and the class label of the file actually served."""

from __future__ import annotations

import logging
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

log = logging.getLogger(__name__)


def item_input(item: torch.Tensor | tuple[torch.Tensor, int]) -> torch.Tensor:
    """The tensor of a dataset item, labelled `(tensor, class id)` or not."""
    return item[0] if isinstance(item, tuple) else item


def split_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(inputs, class ids or None) from a plain or a labelled `(inputs, labels)` batch."""
    if isinstance(batch, (list, tuple)):
        inputs, labels = batch
        return inputs, labels
    return batch, None


@dataclass(kw_only=True)
class LabelSettings:
    """Where class labels come from (src/data/labels.py), shared by every folder spec.

    labels: none | folder | name:<regex> | a CSV/JSONL path of file,label rows.
    unlabeled: files without a label: error (stop, naming them) | unlabeled (a class of that name)."""

    labels: str | None = None
    unlabeled: str = "error"


class FileDataset(Dataset):
    """Items keyed by `index` or `(index, seed)`; subclasses implement `load(path, seed)`.

    With `labels` (one class id per file) an item is `(tensor, label)`. A file that fails with
    one of `skippable` is warned about once and the next file is served in its place, with its
    own label, so one bad file never kills a long run nor mislabels an item."""

    skippable: tuple[type[Exception], ...] = ()
    kind = "file"

    def __init__(self, files: list[Path], labels: list[int] | None = None) -> None:
        if not files:
            raise ValueError(f"{type(self).__name__} needs at least one {self.kind}")
        if labels is not None and len(labels) != len(files):
            raise ValueError(f"{len(files)} files but {len(labels)} labels")
        self.files = list(files)
        self.labels = list(labels) if labels is not None else None
        self._warned: set[Path] = set()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: int | tuple[int, int]) -> torch.Tensor | tuple[torch.Tensor, int]:
        index, seed = key if isinstance(key, tuple) else (key, key)
        for attempt in range(len(self.files)):
            position = (index + attempt) % len(self.files)
            path = self.files[position]
            try:
                item = self.load(path, seed)
            except self.skippable as err:
                if path not in self._warned:
                    self._warned.add(path)
                    log.warning("skipping unusable %s: %s", self.kind, err)
                continue
            return item if self.labels is None else (item, self.labels[position])
        raise RuntimeError(f"every {self.kind} in the dataset failed to load; see the warnings above")

    @abstractmethod
    def load(self, path: Path, seed: int) -> torch.Tensor:
        """The item for one file; `seed` drives any random crop."""
