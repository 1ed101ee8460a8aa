import numpy as np
import pytest
import soundfile as sf
import torch

from src.audio.spectrogram import log_mel
from src.data.synth import DRUM_KINDS, band_edges, synth_kit, write_demo_kit


def test_kit_is_deterministic_and_complete(tmp_path):
    a = write_demo_kit(tmp_path / "a", hits_per_kind=2, length=4096)
    b = write_demo_kit(tmp_path / "b", hits_per_kind=2, length=4096)
    files = sorted(p.relative_to(a) for p in a.rglob("*.wav"))
    assert len(files) == 2 * len(DRUM_KINDS)
    for rel in files:
        assert np.array_equal(sf.read(a / rel)[0], sf.read(b / rel)[0])


def test_kit_is_not_rewritten_when_present(tmp_path):
    kit = write_demo_kit(tmp_path, hits_per_kind=1, length=2048)
    stamp = (kit / "kick" / "kick_000.wav").stat().st_mtime_ns
    write_demo_kit(tmp_path, hits_per_kind=1, length=2048)
    assert (kit / "kick" / "kick_000.wav").stat().st_mtime_ns == stamp


def test_a_smaller_kit_removes_the_larger_ones_extra_hits_and_nothing_else(tmp_path):
    write_demo_kit(tmp_path, hits_per_kind=3, length=2048)
    (tmp_path / "kick" / "my_kick.wav").write_bytes(b"mine")  # not a name the kit writes
    kit = write_demo_kit(tmp_path, hits_per_kind=2, length=2048)
    assert sorted(p.name for p in (kit / "snare").glob("*.wav")) == ["snare_000.wav", "snare_001.wav"]
    assert sorted(p.name for p in (kit / "kick").glob("*.wav")) == ["kick_000.wav", "kick_001.wav", "my_kick.wav"]


def test_kicks_are_low_and_hats_are_high(tmp_path):
    kit = write_demo_kit(tmp_path, hits_per_kind=3, sample_rate=22050, length=8192)

    def centroid(kind: str) -> float:
        values = []
        for path in sorted((kit / kind).glob("*.wav")):
            audio = torch.from_numpy(sf.read(path, dtype="float32")[0].T)
            power = (10 ** (log_mel(audio, 22050) / 10)).mean(-1)
            values.append((power * torch.arange(len(power))).sum() / power.sum())
        return float(np.mean(values))

    assert centroid("kick") < centroid("snare") < centroid("hihat")


RATES = (8000, 16000, 22050, 44100)


def _centroid(audio: torch.Tensor, rate: int) -> float:
    """Spectral centroid of one (C, T) clip in mel bands (a rate-independent ordering, not Hz)."""
    power = (10 ** (log_mel(audio, rate) / 10)).mean(-1)
    return float((power * torch.arange(len(power))).sum() / power.sum())


@pytest.mark.parametrize("rate", RATES)
def test_every_kind_synthesises_at_every_rate(tmp_path, rate):
    kit = write_demo_kit(tmp_path, hits_per_kind=2, sample_rate=rate, length=2048)
    for kind in DRUM_KINDS:
        for path in sorted((kit / kind).glob("*.wav")):
            data, file_rate = sf.read(path, dtype="float32")
            assert file_rate == rate and np.isfinite(data).all() and np.abs(data).max() > 0.1
    audio, labels = synth_kit(hits_per_kind=2, sample_rate=rate, channels=1, length=2048, seed=0)
    assert torch.isfinite(audio).all() and (audio.abs().amax(dim=(1, 2)) > 0.1).all()
    hat, kick = labels.index("hihat"), labels.index("kick")
    assert _centroid(audio[hat], rate) > _centroid(audio[kick], rate)


@pytest.mark.parametrize("rate", RATES)
def test_band_edges_stay_inside_nyquist(rate):
    for low, high in ((1500, 6000), (3000, 10000), (8000, rate / 2 * 0.95), (20000, 30000)):
        lo, hi = band_edges(low, high, rate)
        assert 0 < lo < hi < 1


def test_band_edges_leave_bands_that_fit_unchanged():
    assert band_edges(1500, 6000, 44100) == (1500 / 22050, 6000 / 22050)


def test_kit_in_memory_is_balanced_deterministic_and_matches_the_files(tmp_path):
    audio, labels = synth_kit(hits_per_kind=3, sample_rate=16000, channels=2, length=1024, seed=0)
    assert audio.shape == (9, 2, 1024) and audio.dtype == torch.float32
    assert [labels.count(kind) for kind in DRUM_KINDS] == [3, 3, 3]
    again, _ = synth_kit(hits_per_kind=3, sample_rate=16000, channels=2, length=1024, seed=0)
    other, _ = synth_kit(hits_per_kind=3, sample_rate=16000, channels=2, length=1024, seed=777)
    assert torch.equal(audio, again) and not torch.equal(audio, other)
    kit = write_demo_kit(tmp_path, hits_per_kind=3, sample_rate=16000, channels=2, length=1024, seed=0)
    first_snare = torch.from_numpy(sf.read(kit / "snare" / "snare_000.wav", dtype="float32")[0].T)
    assert torch.allclose(first_snare, audio[labels.index("snare")], atol=1e-4)  # 16-bit files


def test_kit_settings_are_checked():
    with pytest.raises(ValueError, match="hits_per_kind"):
        synth_kit(hits_per_kind=0, sample_rate=16000)
