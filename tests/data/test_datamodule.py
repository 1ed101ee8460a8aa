import pytest
import torch

from src.data.audio_folder import AudioFolderSpec
from src.data.datamodule import AudioDataModule, EpochShuffleSampler
from src.data.mel_image_folder import MelImageFolderSpec
from src.representations.mel import save_mel_png


def test_sampler_depends_only_on_seed_and_epoch():
    a, b = EpochShuffleSampler(10, seed=3), EpochShuffleSampler(10, seed=3)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first and sorted(i for i, _ in a) == list(range(10))
    epoch = [0]
    follows_trainer = EpochShuffleSampler(10, seed=3, epoch_source=lambda: epoch[0])
    follows_trainer.set_epoch(5)  # ignored in favour of the trainer's epoch
    assert list(follows_trainer) == first


def test_null_path_uses_the_demo_kit(tmp_path):
    spec = AudioFolderSpec(path=None, sample_rate=8000, channels=1, length=1024)
    dm = AudioDataModule(spec, demo_dir=str(tmp_path / "kit"), batch_size=4)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == 48
    batch = next(iter(dm.train_dataloader()))
    assert batch.shape == (4, 1, 1024) and batch.dtype == torch.float32
    assert next(iter(dm.val_dataloader())).shape[1:] == (1, 1024)


def test_the_demo_kit_size_is_a_setting(tmp_path):
    spec = AudioFolderSpec(path=None, sample_rate=8000, channels=1, length=1024)
    dm = AudioDataModule(spec, demo_dir=str(tmp_path / "kit"), batch_size=4, demo_hits_per_kind=2)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == 6
    with pytest.raises(ValueError, match="demo_hits_per_kind"):
        AudioDataModule(spec, demo_dir=str(tmp_path / "kit"), demo_hits_per_kind=0)


def test_mel_image_folder_feeds_images_and_skips_corrupt_ones(tmp_path):
    folder = tmp_path / "mels"
    for i in range(6):
        save_mel_png(folder / f"song{i}" / "slice_0000.png", torch.full((32, 16), float(i * 40), dtype=torch.uint8))
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    dm = AudioDataModule(MelImageFolderSpec(path=str(folder), height=32, width=16), demo_dir=str(tmp_path),
                         batch_size=2, val_fraction=0.2)
    dm.setup("fit")
    assert len(dm.skipped) == 1 and "broken.png" in dm.skipped[0]
    batch = next(iter(dm.train_dataloader()))
    assert batch.shape == (2, 1, 32, 16)
    assert batch.min() >= -1 and batch.max() <= 1
