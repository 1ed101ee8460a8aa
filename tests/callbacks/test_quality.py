"""SampleQuality: which held-out reference it builds, and the metrics it logs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from src.audio.io import read_audio, write_wav
from src.callbacks.quality import SampleQuality, uses_demo_kit, validation_reference
from src.data.audio_folder import AudioClipDataset, AudioFolderSpec
from src.data.datamodule import AudioDataModule
from src.data.mel_image_folder import MelImageFolderSpec
from src.data.synth import reference_kit, synth_kit, write_demo_kit
from src.representations.mel import save_mel_png

RATE, LENGTH = 8000, 2048


def model(channels: int = 1) -> SimpleNamespace:
    """What the callback reads from a LightningModule before generating: the representation's audio shape."""
    return SimpleNamespace(representation=SimpleNamespace(sample_rate=RATE, channels=channels, length=LENGTH))


@pytest.fixture(scope="module")
def demo_module(tmp_path_factory: pytest.TempPathFactory) -> AudioDataModule:
    kit = write_demo_kit(tmp_path_factory.mktemp("demo"), hits_per_kind=2, length=4096)
    module = AudioDataModule(AudioFolderSpec(path=None, sample_rate=RATE, channels=1, length=LENGTH), str(kit))
    module.setup("fit")
    return module


@pytest.fixture(scope="module")
def folder_module(tmp_path_factory: pytest.TempPathFactory) -> AudioDataModule:
    """A labelled folder (kick/, snare/, hihat/, 6 each) with half of its files held out."""
    root = tmp_path_factory.mktemp("drums")
    audio, labels = synth_kit(hits_per_kind=6, sample_rate=RATE, channels=1, length=LENGTH, seed=4)
    for i, (clip, label) in enumerate(zip(audio, labels)):
        write_wav(root / label / f"{label}_{i:02d}.wav", clip, RATE)
    module = AudioDataModule(AudioFolderSpec(path=str(root), sample_rate=RATE, channels=1, length=LENGTH),
                             str(root / "unused"), val_fraction=0.5)
    module.setup("fit")
    return module


def test_the_demo_kit_is_detected(demo_module: AudioDataModule, folder_module: AudioDataModule) -> None:
    assert uses_demo_kit(demo_module) and not uses_demo_kit(folder_module)
    assert not uses_demo_kit(SimpleNamespace())


@pytest.mark.parametrize("channels", [1, 2])
def test_demo_training_gets_a_held_out_kit_shaped_like_the_model(demo_module: AudioDataModule, channels: int) -> None:
    callback = SampleQuality(num_samples=4)
    audio, labels = callback.held_out_reference(demo_module, model(channels))
    assert audio.shape == (9, channels, LENGTH)  # 2 x 4 clips, rounded up to 3 of each kind
    assert sorted(labels) == sorted(["kick", "snare", "hihat"] * 3)
    training = torch.stack([demo_module.train_set[i] for i in range(len(demo_module.train_set))])
    assert not any(torch.allclose(clip[:1], other, atol=1e-3) for clip in audio for other in training)
    expected, _ = reference_kit(3, RATE, channels, LENGTH, seed=777)
    assert torch.equal(audio, expected)


def test_other_data_uses_the_validation_clips(folder_module: AudioDataModule) -> None:
    audio, labels = validation_reference(folder_module, model(), count=100)
    val_files = folder_module.val_set.files
    assert len(audio) == len(val_files) >= 4 and set(labels) <= {"kick", "snare", "hihat"}
    assert labels == [path.parent.name for path in val_files]
    for clip, path in zip(audio, val_files):
        assert torch.allclose(clip, read_audio(path)[0][:, :LENGTH], atol=1e-4)
    assert len(validation_reference(folder_module, model(), count=4)[1]) == 4


def test_too_few_validation_clips_switch_the_scale_off(folder_module: AudioDataModule) -> None:
    three = AudioClipDataset(folder_module.val_set.files[:3], folder_module.spec)
    assert validation_reference(SimpleNamespace(val_set=three), model(), 8) is None
    assert validation_reference(SimpleNamespace(val_set=None), model(), 8) is None


def test_fit_start_and_logged_metrics(demo_module: AudioDataModule) -> None:
    logged: list[tuple[dict[str, float], int]] = []
    logger = SimpleNamespace(log_metrics=lambda metrics, step: logged.append((metrics, step)))
    trainer = SimpleNamespace(datamodule=demo_module, loggers=[logger], global_step=7)
    callback = SampleQuality(num_samples=2, reference_clips=4)
    callback.on_fit_start(trainer, model())
    assert callback.floor_scale is not None and len(callback.floor_scale.labels) == 6
    generated = reference_kit(1, RATE, 1, LENGTH, seed=11)[0][:2]
    callback.on_generated(trainer, model(), generated, generated)
    (metrics, step), = logged
    assert step == 7 and set(metrics) == {"val/logmel_fd", "val/fd_ratio", "val/density", "val/coverage"}
    assert all(value >= 0 for value in metrics.values())


def test_diverged_samples_are_named_and_skipped(demo_module: AudioDataModule, caplog) -> None:
    logged: list = []
    trainer = SimpleNamespace(datamodule=demo_module, loggers=[SimpleNamespace(log_metrics=lambda m, step: logged.append(m))],
                              global_step=150)
    callback = SampleQuality(num_samples=2, reference_clips=4)
    callback.on_fit_start(trainer, model())
    generated = reference_kit(1, RATE, 1, LENGTH, seed=11)[0][:2].clone()
    generated[1, 0, 5] = float("nan")
    with caplog.at_level("WARNING"):
        callback.on_generated(trainer, model(), generated, generated)
    assert logged == [] and "step 150: 1 of 2 generated clips hold NaN" in caplog.text


def test_scale_off_and_bad_settings() -> None:
    callback = SampleQuality(num_samples=2, reference_clips=4, scale=False)
    trainer = SimpleNamespace(datamodule=SimpleNamespace(train_set=[torch.zeros(1, LENGTH)] * 2))
    callback.on_fit_start(trainer, model())
    assert callback.floor_scale is None and callback.reference is not None
    with pytest.raises(ValueError, match="scale_clips"):
        SampleQuality(scale_clips=3)
    with pytest.raises(ValueError, match="splits"):
        SampleQuality(splits=0)


def test_validation_images_are_decoded_by_the_model(tmp_path: Path) -> None:
    """Mel-image data sets hold model tensors, not audio: the model's representation turns them into
    reference clips (its decode, not the finish that clips sampled from noise get)."""
    for i in range(16):
        save_mel_png(tmp_path / f"song{i}" / "slice_0000.png", torch.full((16, 8), i * 15, dtype=torch.uint8))
    module = AudioDataModule(MelImageFolderSpec(path=str(tmp_path), height=16, width=8), str(tmp_path / "unused"),
                             val_fraction=0.5)
    module.setup("fit")
    decoded: list[torch.Tensor] = []

    def decode(images: torch.Tensor) -> torch.Tensor:
        decoded.append(images)
        return torch.zeros(len(images), 1, LENGTH)

    pl_module = SimpleNamespace(device=torch.device("cpu"), representation=SimpleNamespace(decode=decode))
    assert len(module.val_set) >= 4
    audio, labels = validation_reference(module, pl_module, count=4)
    assert audio.shape == (4, 1, LENGTH) and decoded[0].shape == (4, 1, 16, 8)
    assert all(label.startswith("song") for label in labels)
