import pytest
import torch

from src.data.audio_folder import AudioFolderSpec
from src.data.augment import AugmentedClips, ClipAugment
from src.data.datamodule import AudioDataModule
from src.data.mel_image_folder import MelImageFolderSpec


def test_factors_are_drawn_from_the_seed_within_the_range():
    augment = ClipAugment(polarity=True, gain_db=6.0)
    factors = [augment.factor(seed) for seed in range(400)]
    assert factors == [augment.factor(seed) for seed in range(400)]  # a resumed run sees the same clips
    signs = sum(f < 0 for f in factors)
    assert 150 < signs < 250  # about half flipped
    levels = [20 * torch.log10(torch.tensor(abs(f))).item() for f in factors]
    assert -6.0 <= min(levels) < -5.0 and 5.0 < max(levels) <= 6.0
    assert ClipAugment().factor(3) == 1.0 and not ClipAugment().active


class OneClip:
    """A labelled dataset of four copies of one clip, keyed like the training sampler's `(index, seed)`."""

    def __init__(self, clip: torch.Tensor) -> None:
        self.clip = clip

    def __len__(self) -> int:
        return 4

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, int]:
        return self.clip.clone(), 2


def test_labelled_items_keep_their_label_and_change_only_in_sign_and_level():
    clip = torch.linspace(-0.5, 0.5, 64).reshape(1, 64)
    clips = AugmentedClips(OneClip(clip), ClipAugment(polarity=True, gain_db=3.0))
    outputs = [clips[(index, seed)] for index in range(4) for seed in range(5)]
    assert all(label == 2 for _, label in outputs)
    ratios = {round(float(out[0, 0] / clip[0, 0]), 6) for out, _ in outputs}
    assert len(ratios) > 10 and any(r < 0 for r in ratios) and any(r > 0 for r in ratios)
    for out, _ in outputs:
        torch.testing.assert_close(out, clip * out[0, 0] / clip[0, 0])  # the same waveform, scaled


def test_the_datamodule_augments_training_clips_only(tmp_path):
    spec = AudioFolderSpec(path=None, sample_rate=8000, channels=1, length=1024)
    plain = AudioDataModule(spec, demo_dir=str(tmp_path / "kit"), batch_size=4)
    augmented = AudioDataModule(spec, demo_dir=str(tmp_path / "kit"), batch_size=4,
                                augment=ClipAugment(polarity=True, gain_db=6.0))
    for module in (plain, augmented):
        module.prepare_data()
        module.setup("fit")
    keys = [(index, seed) for index in range(4) for seed in range(3)]
    changed = [not torch.equal(plain.train_set[key], augmented.train_set[key]) for key in keys]
    assert sum(changed) >= len(keys) - 2
    # a plain index (how the quality callback reads its training reference) gets the clip as recorded
    assert torch.equal(plain.train_set[0], augmented.train_set[0])
    assert torch.equal(plain.val_set[0], augmented.val_set[0])


def test_mel_images_refuse_augmentation_by_name(tmp_path):
    with pytest.raises(ValueError, match="datamodule.augment"):
        AudioDataModule(MelImageFolderSpec(path=str(tmp_path), height=16, width=8), str(tmp_path),
                        augment=ClipAugment(polarity=True))
    with pytest.raises(ValueError, match="gain_db"):
        ClipAugment(gain_db=-1.0)
