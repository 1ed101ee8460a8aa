import logging

import numpy as np
import pytest
import soundfile as sf
import torch

from src.data.audio_folder import AudioClipDataset, AudioFolderSpec, list_audio_files, scan_files, split_files
from tests.conftest import write_tone


def spec(**overrides) -> AudioFolderSpec:
    values = dict(path=None, sample_rate=8000, channels=1, length=2000)
    values.update(overrides)
    return AudioFolderSpec(**values)


def test_missing_and_empty_folders_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_audio_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no audio here")
    with pytest.raises(FileNotFoundError, match="empty"):
        list_audio_files(tmp_path / "empty")


def test_lists_recursively_all_formats(tmp_path):
    for name in ("a.wav", "sub/b.flac", "sub/deeper/c.ogg", "d.MP3"):
        write_tone(tmp_path / name)
    (tmp_path / "readme.txt").write_text("x")
    names = [p.name for p in list_audio_files(tmp_path)]
    assert sorted(names) == ["a.wav", "b.flac", "c.ogg", "d.MP3"]


def test_scan_skips_bad_files_with_reasons(tmp_path):
    good = write_tone(tmp_path / "good.wav")
    (tmp_path / "broken.wav").write_bytes(b"RIFF....garbage")
    sf.write(str(tmp_path / "empty.wav"), np.zeros((0, 1)), 8000)
    sf.write(str(tmp_path / "nan.wav"), np.full((64, 1), np.inf, dtype=np.float32), 8000, subtype="FLOAT")
    files = list_audio_files(tmp_path)
    kept, problems = scan_files(files, full=True)
    assert kept == [good]
    assert len(problems) == 3
    assert all(any(name in p for p in problems) for name in ("broken.wav", "empty.wav", "nan.wav"))
    # A header scan cannot see the infinite samples; the dataset catches them at load time.
    kept_header, _ = scan_files(files, full=False)
    assert sorted(p.name for p in kept_header) == ["good.wav", "nan.wav"]


def test_split_is_deterministic_and_stable(tmp_path):
    files = [tmp_path / f"f{i:03d}.wav" for i in range(200)]
    train, val = split_files(files, 0.2)
    assert 20 < len(val) < 60 and not set(train) & set(val)
    assert set(split_files(list(reversed(files)), 0.2)[1]) == set(val)
    # Adding files never moves an old file between the sets.
    more_train, more_val = split_files(files + [tmp_path / f"new{i}.wav" for i in range(50)], 0.2)
    assert set(val) <= set(more_val) and set(train) <= set(more_train)
    # A tiny folder still gets one validation file.
    assert len(split_files(files[:3], 0.1)[1]) == 1
    with pytest.raises(ValueError, match="val_fraction"):
        split_files(files, 1.5)


def test_clip_is_resampled_converted_and_cropped(tmp_path):
    path = write_tone(tmp_path / "long.wav", rate=16000, seconds=2.0, channels=2)
    dataset = AudioClipDataset([path], spec(crop="random"))
    clip = dataset[0]
    assert clip.shape == (1, 2000) and clip.dtype == torch.float32
    assert torch.equal(dataset[(0, 7)], dataset[(0, 7)])  # same crop seed, same window
    starts = {float(dataset[(0, seed)][0, 0]) for seed in range(8)}
    assert len(starts) > 1  # different seeds pick different windows


def test_short_file_is_padded_and_start_crop_keeps_the_attack(tmp_path):
    path = write_tone(tmp_path / "short.wav", rate=8000, seconds=0.1)
    clip = AudioClipDataset([path], spec(crop="start"))[0]
    assert clip.shape == (1, 2000)
    assert clip[0, 800:].abs().max() == 0  # zero padding after the 800 real samples
    assert clip[0, :800].abs().max() > 0.4


def test_normalisation_applies(tmp_path):
    path = write_tone(tmp_path / "t.wav", rate=8000, seconds=0.5)
    clip = AudioClipDataset([path], spec(normalize_db=-30.0))[0]
    assert abs(20 * torch.log10(clip.pow(2).mean().sqrt()).item() + 30.0) < 0.5


def test_dataset_skips_a_file_that_goes_bad_with_one_warning(tmp_path, caplog):
    good = write_tone(tmp_path / "good.wav", rate=8000)
    bad = tmp_path / "bad.wav"
    sf.write(str(bad), np.full((64, 1), np.nan, dtype=np.float32), 8000, subtype="FLOAT")
    dataset = AudioClipDataset([bad, good], spec())
    with caplog.at_level(logging.WARNING):
        first, again = dataset[0], dataset[0]
    assert torch.equal(first, dataset[1]) and torch.equal(again, first)
    warnings = [r for r in caplog.records if "bad.wav" in r.getMessage()]
    assert len(warnings) == 1


def test_spec_rejects_bad_settings():
    with pytest.raises(ValueError, match="crop"):
        spec(crop="middle")
    with pytest.raises(ValueError, match="channels"):
        spec(channels=3)
