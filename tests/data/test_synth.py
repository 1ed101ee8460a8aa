import numpy as np
import soundfile as sf
import torch

from src.audio.spectrogram import log_mel
from src.data.synth import DRUM_KINDS, write_demo_kit


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
