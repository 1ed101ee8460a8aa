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


LIBRARY_FORMATS = [("kick.aif", "AIFF"), ("snare.aiff", "AIFF"), ("hat.aifc", "AIFF"), ("tom.w64", "W64"),
                   ("clap.caf", "CAF"), ("rim.au", "AU"), ("perc.rf64", "RF64")]


def test_every_container_libsndfile_reads_is_listed_and_ignored_files_are_counted(tmp_path, caplog):
    for name, container in LIBRARY_FORMATS:
        t = np.arange(800) / 8000
        sf.write(str(tmp_path / name), 0.5 * np.sin(2 * np.pi * 200 * t), 8000, format=container)
    write_tone(tmp_path / "main.wav")
    for name in ("notes.txt", "cover.jpg", "project.als", "other.txt", ".DS_Store"):
        (tmp_path / name).write_text("x")
    with caplog.at_level(logging.INFO):
        files = list_audio_files(tmp_path)
    assert sorted(p.name for p in files) == sorted([name for name, _ in LIBRARY_FORMATS] + ["main.wav"])
    assert "ignored 5 files that are not audio files: .txt 2, (no extension) 1, .als 1, .jpg 1" in caplog.text
    kept, problems = scan_files(files, full=True)
    assert len(kept) == len(files) and not problems  # and each one decodes


def test_truncated_silent_and_tiny_files_are_skipped_by_name(tmp_path, caplog):
    folder_spec = spec(length=8000)  # clips of one second at 8 kHz: min_fraction 0.01 = 10 ms
    good = write_tone(tmp_path / "good.wav", rate=8000)
    (tmp_path / "truncated.wav").write_bytes(good.read_bytes()[:60])  # a broken download: header + 4 frames
    sf.write(str(tmp_path / "silent.wav"), np.zeros((4000, 1)), 8000)
    sf.write(str(tmp_path / "hiss.wav"), np.full((4000, 1), 1e-4), 8000)  # -80 dBFS
    sf.write(str(tmp_path / "quiet_hit.wav"), np.full((4000, 1), 0.01), 8000)  # -40 dBFS: kept
    with caplog.at_level(logging.INFO):
        kept, problems = folder_spec.check_files(list_audio_files(tmp_path))
    assert sorted(p.name for p in kept) == ["good.wav", "quiet_hit.wav"]
    by_name = {name: [p for p in problems if name in p] for name in ("truncated.wav", "silent.wav", "hiss.wav")}
    assert all(len(found) == 1 for found in by_name.values()), problems
    assert "under 1% of a clip" in by_name["truncated.wav"][0]
    assert "silence_db=-60" in by_name["hiss.wav"][0]
    assert "below -60 dBFS" in caplog.text and "1% of a clip (10.0 ms)" in caplog.text  # the thresholds are printed
    # both thresholds are settings
    kept_all, _ = spec(length=8000, silence_db=-100, min_fraction=0).check_files(list_audio_files(tmp_path))
    assert "hiss.wav" in {p.name for p in kept_all} and "truncated.wav" in {p.name for p in kept_all}
    with pytest.raises(ValueError, match="min_fraction"):
        spec(min_fraction=2)


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
    # Paths are hashed relative to the data root, so the split cannot depend on where pytest puts tmp_path.
    files = [tmp_path / f"f{i:03d}.wav" for i in range(200)]
    train, val = split_files(files, 0.2, tmp_path)
    assert 20 < len(val) < 60 and not set(train) & set(val)
    assert set(split_files(list(reversed(files)), 0.2, tmp_path)[1]) == set(val)
    # Adding files never moves an old file between the sets.
    more_train, more_val = split_files(files + [tmp_path / f"new{i}.wav" for i in range(50)], 0.2, tmp_path)
    assert set(val) <= set(more_val) and set(train) <= set(more_train)
    # A tiny folder none of whose files hashes under the fraction still gets one validation file.
    tiny = [f for f in files if f not in val][:3]
    assert len(split_files(tiny, 0.1, tmp_path)[1]) == 1
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


def test_peak_normalisation_levels_quiet_and_loud_hits_alike(tmp_path):
    quiet = write_tone(tmp_path / "quiet.wav", rate=8000, seconds=0.5, amplitude=0.05)
    loud = write_tone(tmp_path / "loud.wav", rate=8000, seconds=0.5, amplitude=0.8)
    dataset = AudioClipDataset([quiet, loud], spec(normalize_peak_db=-3.0))
    for clip in (dataset[0], dataset[1]):
        assert abs(20 * torch.log10(clip.abs().max()).item() + 3.0) < 1e-3


@pytest.mark.parametrize("settings, named", [
    ({"normalize_db": -20.0, "normalize_peak_db": -1.0}, "normalize_db and normalize_peak_db"),
    ({"normalize_peak_db": 2.0}, "normalize_peak_db must be at most 0"),
])
def test_normalisation_settings_are_checked(settings, named):
    with pytest.raises(ValueError, match=named):
        spec(**settings)


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


@pytest.mark.parametrize("crop, cache_mb, reads", [("start", 256.0, 1), ("center", 256.0, 1), ("start", 0.0, 3),
                                                    ("random", 256.0, 3)])
def test_fixed_crops_are_decoded_once_and_served_as_copies(tmp_path, monkeypatch, crop, cache_mb, reads):
    import src.data.audio_folder as audio_folder
    path = write_tone(tmp_path / "t.wav", rate=16000, seconds=0.5)
    calls = []
    real_read = audio_folder.read_audio
    monkeypatch.setattr(audio_folder, "read_audio", lambda *a, **k: calls.append(a) or real_read(*a, **k))
    dataset = AudioClipDataset([path], spec(crop=crop, cache_mb=cache_mb))
    first = dataset[(0, 1)]
    first.zero_()  # a consumer that edits its clip in place must not reach the kept one
    second, third = dataset[(0, 1)], dataset[(0, 1)]
    assert len(calls) == reads
    assert torch.equal(second, third) and second.abs().max() > 0.1


def test_the_clip_cache_stops_at_its_budget(tmp_path):
    paths = [write_tone(tmp_path / f"{i}.wav", rate=8000, seconds=0.3) for i in range(3)]
    two_clips_mb = 2 * 4 * 2000 / 2**20
    dataset = AudioClipDataset(paths, spec(cache_mb=two_clips_mb))
    for index in range(3):
        dataset[index]
    assert len(dataset._clips) == 2


def test_spec_rejects_bad_settings():
    with pytest.raises(ValueError, match="cache_mb"):
        spec(cache_mb=-1.0)
    with pytest.raises(ValueError, match="crop"):
        spec(crop="middle")
    with pytest.raises(ValueError, match="channels"):
        spec(channels=3)
