"""The file index: a second start over an unchanged folder reads no audio; changes are seen."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from src.data import audio_folder
from src.data.audio_folder import AudioFolderSpec, list_audio_files
from src.data.file_index import index_path, load_index
from tests.conftest import write_tone


@pytest.fixture
def folder(tmp_path):
    for i in range(6):
        write_tone(tmp_path / "data" / f"hit_{i}.wav", rate=8000, seconds=0.2, freq=200.0 + 50 * i)
    (tmp_path / "data" / "broken.wav").write_bytes(b"RIFF" + bytes(40))
    return tmp_path / "data"


@pytest.fixture
def probes(monkeypatch):
    """The files each scan actually reads."""
    seen: list[str] = []
    real = audio_folder.probe_audio

    def counting(path, full):
        seen.append(path.name)
        return real(path, full)

    monkeypatch.setattr(audio_folder, "probe_audio", counting)
    return seen


def check(folder, cache):
    spec = AudioFolderSpec(path=str(folder), sample_rate=8000, channels=1, length=1600)
    return spec.check_files(list_audio_files(folder), folder, cache)


def test_an_unchanged_folder_is_not_read_again_but_broken_files_are(folder, tmp_path, probes):
    cache = tmp_path / "cache"
    first = check(folder, cache)
    assert len(probes) == 7 and len(first[0]) == 6 and "broken.wav" in first[1][0]
    probes.clear()
    assert check(folder, cache) == first  # the same verdicts, with the same messages
    assert probes == ["broken.wav"]  # a failed file is looked at again: it may have been fixed


def test_a_changed_file_is_checked_again(folder, tmp_path, probes):
    cache = tmp_path / "cache"
    check(folder, cache)
    sf.write(str(folder / "hit_2.wav"), np.zeros((1600, 1)), 8000)  # now silent
    os.utime(folder / "hit_2.wav", ns=(1, 1))  # whatever the clock, the mtime differs
    probes.clear()
    kept, problems = check(folder, cache)
    assert sorted(probes) == ["broken.wav", "hit_2.wav"]
    assert "hit_2.wav" not in {p.name for p in kept} and any("hit_2.wav" in p and "silent" in p for p in problems)


def test_the_index_lives_in_the_cache_folder_and_the_data_folder_may_be_read_only(folder, tmp_path):
    cache = tmp_path / "cache"
    os.chmod(folder, 0o555)
    try:
        check(folder, cache)
    finally:
        os.chmod(folder, 0o755)
    path = index_path(cache, folder)
    assert path.is_file() and path.parent.parent == cache
    assert len(load_index(path)) == 7 and not list(path.parent.glob("*.tmp*"))  # written whole, then renamed
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"hit_{i}.wav" for i in range(6)] + ["broken.wav"])


def test_only_rank_zero_writes_the_index(folder, tmp_path, monkeypatch):
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)
    check(folder, tmp_path / "cache")
    assert not index_path(tmp_path / "cache", folder).exists()


def test_a_corrupt_index_means_a_full_check(folder, tmp_path, probes):
    cache = tmp_path / "cache"
    check(folder, cache)
    index_path(cache, folder).write_text("{not json")
    probes.clear()
    assert len(check(folder, cache)[0]) == 6 and len(probes) == 7


def test_a_file_that_cannot_be_read_is_skipped_by_name(folder, tmp_path):
    (folder / "ghost.wav").symlink_to(tmp_path / "nowhere.wav")  # listed, but there is nothing to read
    kept, problems = check(folder, tmp_path / "cache")
    assert len(kept) == 6 and any("ghost.wav" in p and "cannot read" in p for p in problems)
