"""LightningDataModule over a folder of audio, or the built-in synthetic drum kit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from src.data.audio_folder import AudioFolderSpec, split_files
from src.data.augment import AugmentedClips, ClipAugment
from src.data.labels import Vocabulary, assign_labels, describe_counts
from src.data.mel_image_folder import MelImageFolderSpec
from src.data.synth import write_demo_kit

log = logging.getLogger(__name__)


class EpochShuffleSampler(Sampler):
    """Shuffles with a generator seeded by (seed, epoch) and hands out per-item crop seeds.

    The order and random crops depend only on the epoch, so a run resumed at an epoch
    boundary sees exactly the data an uninterrupted one would, and the global RNG that
    drives diffusion noise is never touched by data loading.

    The epoch comes from `epoch_source()` (the trainer's `current_epoch`) when given:
    the value Lightning passes to `set_epoch` runs one ahead after resuming from a
    checkpoint saved at an epoch end (it counts the restored epoch twice)."""

    def __init__(self, num_items: int, seed: int, epoch_source: Callable[[], int] | None = None) -> None:
        self.num_items = num_items
        self.seed = seed
        self.epoch = 0
        self.epoch_source = epoch_source

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_items

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch_source() if self.epoch_source is not None else self.epoch
        generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        order = torch.randperm(self.num_items, generator=generator).tolist()
        crop_seeds = torch.randint(0, 2**31 - 1, (self.num_items,), generator=generator).tolist()
        return iter(zip(order, crop_seeds))


class AudioDataModule(pl.LightningDataModule):
    """Training items from the files of a folder: audio clips (AudioFolderSpec; the built-in
    demo kit when its path is null) or mel images (MelImageFolderSpec).

    Args:
        dataset: which files to use and how they become items.
        demo_dir: where the synthetic kit is written on first use.
        demo_hits_per_kind: hits of each drum kind (kick, snare, hat) in that kit.
        val_fraction: share of files held out for validation (deterministic by file name).
        batch_size / num_workers / pin_memory: DataLoader settings.
        seed: shuffling and random-crop seed.
        index_dir: where the file index of checked audio files is kept between starts (null: none).
        augment: polarity and level changes of training clips (src/data/augment.py); null: none.

    Class labels come from `dataset.labels` (src/data/labels.py); with them, items are
    `(tensor, class id)` and `vocabulary` holds the label names.
    """

    def __init__(
        self,
        dataset: AudioFolderSpec | MelImageFolderSpec,
        demo_dir: str,
        val_fraction: float = 0.1,
        batch_size: int = 8,
        num_workers: int = 0,
        pin_memory: bool = False,
        seed: int = 0,
        index_dir: str | None = None,
        augment: ClipAugment | None = None,
        demo_hits_per_kind: int = 16,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"datamodule.batch_size must be at least 1, got {batch_size}")
        if demo_hits_per_kind < 1:
            raise ValueError(f"datamodule.demo_hits_per_kind must be at least 1, got {demo_hits_per_kind}")
        self.demo_hits_per_kind = demo_hits_per_kind
        self.spec = dataset
        self.demo_dir = Path(demo_dir)
        self.val_fraction = val_fraction
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.index_dir = index_dir
        augment = augment if augment is not None and augment.active else None  # both off: no wrapper
        if augment is not None and not isinstance(dataset, AudioFolderSpec):
            raise ValueError("datamodule.augment flips and levels audio clips; mel image folders take none "
                             "(set datamodule.augment=null)")
        self.augment = augment
        self.vocabulary: Vocabulary | None = None
        self.labels: dict[Path, int] = {}  # class id per file, when there are labels
        self.pin_memory = pin_memory
        self.seed = seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.skipped: list[str] = []
        self._split: tuple[list[Path], list[Path]] | None = None

    @property
    def root(self) -> Path:
        return Path(self.spec.path).expanduser() if self.spec.path else self.demo_dir

    @property
    def uses_demo_kit(self) -> bool:
        """An audio folder spec without a path trains on the built-in synthetic kit."""
        return not self.spec.path and isinstance(self.spec, AudioFolderSpec)

    def prepare_data(self) -> None:
        if self.uses_demo_kit:
            write_demo_kit(self.demo_dir, hits_per_kind=self.demo_hits_per_kind)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train, val = self.split()
        self.train_set = self.spec.make_dataset(train, self._labels_of(train))
        if self.augment is not None:
            self.train_set = AugmentedClips(self.train_set, self.augment)
        self.val_set = self.spec.make_dataset(val, self._labels_of(val)) if val else None

    def split(self) -> tuple[list[Path], list[Path]]:
        """The usable files, split into training and validation, with their labels read (once)."""
        if self._split is not None:
            return self._split
        files = self.spec.list_files(self.root)
        good, self.skipped = self.spec.check_files(files, self.root, self.index_dir)
        for problem in self.skipped:
            log.warning("skipping unusable file: %s", problem)
        if not good:
            raise ValueError(f"none of the {len(files)} files under {self.root} could be used")
        train, val = split_files(good, self.val_fraction, self.root)
        log.info(
            "data folder %s: %d files found, %d skipped, %d train, %d validation",
            self.root, len(files), len(self.skipped), len(train), len(val),
        )
        self.read_labels(train, val)
        self._split = train, val
        return self._split

    def label_vocabulary(self) -> Vocabulary | None:
        """The labels' vocabulary (None without labels), read before any model exists: the
        model's class embedding is sized from it."""
        self.prepare_data()
        self.split()
        return self.vocabulary

    def read_labels(self, train: list[Path], val: list[Path]) -> None:
        """The vocabulary and each file's class id, with the counts per split in the log."""
        files = train + val
        source = self.spec.labels
        names = assign_labels(self.spec.label_keys(files, self.root), files, source, self.spec.unlabeled, self.root)
        if names is None:
            return
        self.vocabulary = Vocabulary(tuple(sorted(set(names))))
        self.labels = {file: self.vocabulary.index(name) for file, name in zip(files, names)}
        log.info("labels from %s: %s", source, describe_counts(
            self.vocabulary, {"train": names[: len(train)], "validation": names[len(train):]}))

    def _labels_of(self, files: list[Path]) -> list[int] | None:
        return [self.labels[file] for file in files] if self.vocabulary is not None else None

    def _loader(self, dataset: Dataset, sampler: Sampler | None) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
            # Own generator: worker seeding must not consume the global RNG stream.
            generator=torch.Generator().manual_seed(self.seed),
        )

    def train_dataloader(self) -> DataLoader:
        epoch_source = (lambda: self.trainer.current_epoch) if self.trainer is not None else None
        return self._loader(self.train_set, EpochShuffleSampler(len(self.train_set), self.seed, epoch_source))

    def val_dataloader(self) -> DataLoader | list:
        return self._loader(self.val_set, None) if self.val_set is not None else []
