"""The torch mel representation against diffusers' librosa-based `Mel` (the reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from src.audio.io import read_audio, resample
from src.data.mel_images import load_mel_png
from src.data.synth import write_demo_kit
from src.representations import mel as mel_module
from src.representations.mel import (
    MelParams,
    _istft,
    _stft,
    MelRepresentation,
    audio_to_image,
    image_to_audio,
    save_mel_png,
)
from src.metrics.reconstruction import spectral_convergence

pytest.importorskip("librosa")
from diffusers.pipelines.deprecated.audio_diffusion.mel import Mel  # noqa: E402  (needs librosa)

RATE = 22050


@pytest.fixture(autouse=True)
def one_thread():
    # Two shared cores: torch's OpenMP threads oversubscribe them and make FFTs erratic.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def kit_audio(tmp_path_factory: pytest.TempPathFactory) -> list[torch.Tensor]:
    """The six synthetic hits as mono 22.05 kHz signals (16384 samples each)."""
    kit = write_demo_kit(tmp_path_factory.mktemp("kit"), hits_per_kind=2)
    clips = []
    for path in sorted(Path(kit).rglob("*.wav")):
        audio, rate = read_audio(path)
        clips.append(resample(audio.mean(dim=0), rate, RATE))
    return clips


def slices(clips: list[torch.Tensor], x_res: int, hop: int = 512) -> torch.Tensor:
    size = x_res * hop - 1
    return torch.stack([torch.nn.functional.pad(c, (0, max(0, size - c.shape[-1])))[:size] for c in clips])


def off_level(x: torch.Tensor) -> float:
    """Largest distance of a [-1, 1] tensor's values from the nearest 8-bit grey level."""
    grey = (x + 1) * 127.5
    return (grey - grey.round()).abs().max().item()


def diffusers_image(mel: Mel, clip: torch.Tensor) -> np.ndarray:
    mel.load_audio(raw_audio=clip.numpy())
    return np.asarray(mel.audio_slice_to_image(0)).astype(np.float64)


@pytest.mark.parametrize(("res", "count"), [(64, 6), (256, 2)])
def test_image_matches_diffusers(kit_audio: list[torch.Tensor], res: int, count: int) -> None:
    batch = slices(kit_audio[:count], res)
    ours = audio_to_image(batch, MelParams(n_mels=res))
    mel = Mel(x_res=res, y_res=res, sample_rate=RATE)
    for clip, image in zip(batch, ours):
        reference = diffusers_image(mel, clip)
        assert image.shape == reference.shape == (res, res)
        diff = np.abs(image.numpy() - reference)
        assert diff.mean() <= 2.0
        assert (diff > 2).mean() < 1e-3  # only float rounding at .5 boundaries may differ
        assert image.std() > 10  # a real picture, not a constant that happens to match


def test_round_trip_no_worse_than_diffusers(kit_audio: list[torch.Tensor]) -> None:
    """Mean spectral convergence over the six hits; ours may exceed diffusers' by 0.03 at
    most (both use random initial phases, which move single clips by up to ~0.1)."""
    params = MelParams(n_mels=64)
    batch = slices(kit_audio, 64)
    images = audio_to_image(batch, params)
    ours = spectral_convergence(batch, image_to_audio(images, params), params.n_fft, params.hop_length).mean().item()
    mel = Mel(x_res=64, y_res=64, sample_rate=RATE)
    theirs = []
    for clip, image in zip(batch, images):
        np.random.seed(0)  # librosa's Griffin-Lim draws its phases from numpy's global RNG
        audio = mel.image_to_audio(Image.fromarray(image.numpy().astype(np.uint8)))
        theirs.append(spectral_convergence(clip, torch.from_numpy(audio).float(), params.n_fft, params.hop_length).item())
    assert ours <= float(np.mean(theirs)) + 0.03
    assert ours < 0.8  # and the round trip actually reconstructs something


def test_batch_equals_items(kit_audio: list[torch.Tensor], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mel_module, "CPU_CHUNK", 64)  # the whole-batch path other devices take
    params = MelParams(n_mels=32, n_iter=4)
    batch = slices(kit_audio[:3], 32)
    images = audio_to_image(batch, params)
    audio = image_to_audio(images, params)
    for i in range(3):
        torch.testing.assert_close(audio_to_image(batch[i], params), images[i])
        torch.testing.assert_close(image_to_audio(images[i], params), audio[i], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(("n_fft", "hop"), [(256, 64), (256, 100)])  # fast path, torch.istft fallback
def test_inverse_stft_matches_torch(n_fft: int, hop: int) -> None:
    params = MelParams(n_fft=n_fft, hop_length=hop, n_mels=16)
    spec = _stft(torch.randn(2, 3000), params) * torch.rand(1, n_fft // 2 + 1, 1)  # not a consistent STFT
    window = torch.hann_window(n_fft)
    for length in ((spec.shape[-1] - 1) * hop, spec.shape[-1] * hop - 1):
        expected = torch.istft(spec, n_fft, hop, window=window, length=length)
        torch.testing.assert_close(_istft(spec, params, length), expected, atol=1e-5, rtol=1e-4)


def test_odd_hop_round_trip() -> None:
    params = MelParams(n_fft=512, hop_length=100, n_mels=32, n_iter=8)
    clip = torch.sin(torch.arange(40 * 100 - 1) * 0.05) * torch.linspace(1, 0, 40 * 100 - 1)
    audio = image_to_audio(audio_to_image(clip, params), params)
    assert audio.shape == clip.shape
    assert spectral_convergence(clip, audio, params.n_fft, params.hop_length) < 0.5


def test_png_interchangeable_with_diffusers(kit_audio: list[torch.Tensor], tmp_path: Path) -> None:
    clip = slices(kit_audio[2:3], 64)[0]
    mel = Mel(x_res=64, y_res=64, sample_rate=RATE)
    mel.load_audio(raw_audio=clip.numpy())
    mel.audio_slice_to_image(0).save(tmp_path / "theirs.png")
    save_mel_png(tmp_path / "ours.png", audio_to_image(clip, MelParams(n_mels=64)))
    theirs, ours = load_mel_png(tmp_path / "theirs.png"), load_mel_png(tmp_path / "ours.png")
    assert Image.open(tmp_path / "ours.png").mode == "L"
    assert (theirs - ours).abs().mean() <= 2.0
    assert ours.shape == (64, 64)


def test_representation_encode_decode(kit_audio: list[torch.Tensor]) -> None:
    rep = MelRepresentation(x_res=32, y_res=32, n_iter=4)
    assert (rep.channels, rep.length) == (1, 32 * 512 - 1)
    mono = slices(kit_audio[:2], 32).unsqueeze(1)
    stereo = torch.cat([mono * 0.5, mono * 1.5], dim=1)  # mixes down to `mono`
    x = rep.encode(stereo)
    assert x.shape == (2, *rep.tensor_shape()) == (2, 1, 32, 32)
    assert x.min() >= -1 and x.max() == 1  # the loudest cell is 0 dB -> grey 255
    torch.testing.assert_close(x, rep.encode(mono))
    assert off_level(x) < 1e-4  # quantised to 8-bit levels
    assert rep.encode(x) is x  # 4-D input: already-encoded images pass through
    audio = rep.decode(x)
    assert audio.shape == (2, 1, rep.length) and torch.isfinite(audio).all()


def test_wider_images(kit_audio: list[torch.Tensor]) -> None:
    rep = MelRepresentation(x_res=16, y_res=32, n_iter=2)
    wide = 48 * 512 - 1
    assert rep.tensor_shape(wide) == (1, 32, 48)
    x = rep.encode(slices(kit_audio[:1], 48).unsqueeze(1))
    assert x.shape == (1, *rep.tensor_shape(wide))
    assert rep.decode(x).shape == (1, 1, wide)


def test_unquantized_encode_keeps_fractions(kit_audio: list[torch.Tensor]) -> None:
    x = MelRepresentation(x_res=16, y_res=16, quantize=False).encode(slices(kit_audio[:1], 16).unsqueeze(1))
    assert off_level(x) > 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x_res": 0}, "x_res"),
        ({"y_res": 2000}, "n_mels"),
        ({"hop_length": 1500}, "hop_length"),
        ({"top_db": 0}, "top_db"),
        ({"n_iter": -1}, "n_iter"),
        ({"sample_rate": 0}, "sample_rate"),
    ],
)
def test_invalid_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MelRepresentation(**kwargs)


def test_public_attributes_for_export() -> None:
    rep = MelRepresentation(x_res=64, y_res=32, sample_rate=16000, n_fft=1024, hop_length=256, top_db=60, n_iter=8)
    got = {k: getattr(rep, k) for k in ("x_res", "y_res", "sample_rate", "n_fft", "hop_length", "top_db", "n_iter")}
    assert got == {"x_res": 64, "y_res": 32, "sample_rate": 16000, "n_fft": 1024, "hop_length": 256,
                   "top_db": 60.0, "n_iter": 8}


def test_bad_shapes_are_rejected() -> None:
    rep = MelRepresentation(x_res=8, y_res=16)
    with pytest.raises(ValueError, match="mel images"):
        rep.encode(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="decode"):
        rep.decode(torch.zeros(1, 16, 8))
