import numpy as np
import pytest
import soundfile as sf
import torch

from src.audio.io import (
    AudioDecodeError,
    fit_length,
    normalize_loudness,
    read_audio,
    resample,
    to_channels,
    write_wav,
)
from tests.conftest import write_tone


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_reads_every_supported_format(tmp_path, suffix):
    path = write_tone(tmp_path / f"tone{suffix}", rate=16000, seconds=0.5, channels=2)
    audio, rate = read_audio(path)
    assert rate == 16000
    assert audio.dtype == torch.float32 and audio.shape[0] == 2
    # Lossy codecs pad a little; the tone's amplitude survives.
    assert abs(audio.shape[1] - 8000) < 2000
    assert 0.3 < audio.abs().max() < 0.7


def test_write_read_round_trip(tmp_path):
    clip = torch.linspace(-0.5, 0.5, 1000).repeat(2, 1)
    write_wav(tmp_path / "x.wav", clip, 8000)
    back, rate = read_audio(tmp_path / "x.wav")
    assert rate == 8000
    assert torch.allclose(back, clip, atol=1 / 32768 * 2)


def test_bad_files_raise_naming_the_file(tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio at all" * 10)
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros((0, 1)), 8000)
    nan = tmp_path / "nan.wav"
    sf.write(str(nan), np.full((100, 1), np.nan, dtype=np.float32), 8000, subtype="FLOAT")
    for path in (garbage, empty, nan):
        with pytest.raises(AudioDecodeError, match=path.name):
            read_audio(path)


def test_channel_conversion():
    stereo = torch.stack([torch.ones(10), -torch.ones(10)])
    assert torch.allclose(to_channels(stereo, 1), torch.zeros(1, 10))
    assert to_channels(torch.ones(1, 10), 2).shape == (2, 10)
    assert to_channels(torch.ones(4, 10), 2).shape == (2, 10)


def test_fit_length_crops_and_pads():
    audio = torch.arange(10.0).unsqueeze(0)
    assert fit_length(audio, 4, offset=3).tolist() == [[3.0, 4.0, 5.0, 6.0]]
    padded = fit_length(audio, 12)
    assert padded.shape == (1, 12) and padded[0, -2:].abs().sum() == 0


def test_resample_changes_length_by_ratio():
    audio = torch.randn(1, 44100)
    assert resample(audio, 44100, 16000).shape == (1, 16000)
    assert resample(audio, 16000, 16000) is audio


def test_normalize_loudness_hits_target_and_never_clips():
    quiet = 0.01 * torch.randn(1, 16000)
    out = normalize_loudness(quiet, -20.0)
    rms_db = 20 * torch.log10(out.pow(2).mean().sqrt())
    assert abs(rms_db.item() + 20.0) < 0.1
    spiky = torch.zeros(1, 1000)
    spiky[0, 0] = 0.001
    assert normalize_loudness(spiky, -3.0).abs().max() <= 0.99 + 1e-6
    silent = torch.zeros(1, 100)
    assert torch.equal(normalize_loudness(silent, -20.0), silent)


def test_lufs_normalisation_reaches_its_target_and_keeps_silence():
    """BS.1770 integrated loudness, as tiny-audio-diffusion's loudness=-20 measures it (pyloudnorm)."""
    from torchaudio.functional import loudness

    from src.audio.io import normalize_lufs

    rate = 44100
    t = torch.arange(int(0.75 * rate)) / rate
    hit = (0.05 * torch.sin(2 * torch.pi * 200 * t) * torch.exp(-3 * t)).repeat(2, 1)
    louder = normalize_lufs(hit, rate, -20.0)
    assert abs(float(loudness(louder, rate)) + 20.0) < 0.05
    assert torch.allclose(louder / louder.abs().max(), hit / hit.abs().max(), atol=1e-6)  # a gain only
    silent = torch.zeros(2, rate)
    assert torch.equal(normalize_lufs(silent, rate, -20.0), silent)
