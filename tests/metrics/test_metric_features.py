"""Feature extractors: shapes, the log-mel floor, and CREPE run offline from the wheel's weights."""

from __future__ import annotations

import pytest
import torch

from src.audio.io import resample
from src.metrics.features import (
    LOG_MEL_FLOOR_DB,
    _crepe_model,
    _penultimate,
    crepe_embeddings,
    extract_features,
    logmel_stats,
    mfcc_stats,
)

KIT_RATE = 44100  # write_demo_kit's default


def test_every_feature_set_has_its_documented_shape(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    clips = kit_halves[0][:4]
    features = extract_features(clips, KIT_RATE)
    assert {name: tuple(f.shape) for name, f in features.items()} == {
        "logmel": (4, 128), "mfcc": (4, 40), "crepe": (4, 256)}
    assert all(torch.isfinite(f).all() for f in features.values())
    assert torch.equal(features["logmel"], logmel_stats(clips, KIT_RATE))


def test_logmel_silence_sits_on_the_floor() -> None:
    stats = logmel_stats(torch.zeros(2, 1, 8192), 16000)
    assert torch.all(stats[:, :64] == LOG_MEL_FLOOR_DB) and torch.all(stats[:, 64:] == 0)


def test_clips_are_featurised_independently_of_their_batch(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    clips = kit_halves[0][:3]
    for extract in (logmel_stats, mfcc_stats):
        together = extract(clips, KIT_RATE)
        alone = torch.cat([extract(clip[None], KIT_RATE) for clip in clips])
        torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("capacity", ["tiny", "full"])
def test_penultimate_layer_feeds_torchcrepe_classifier(capacity: str) -> None:
    """The 1-D re-run of CREPE's conv stack gives exactly what torchcrepe's own forward classifies."""
    model = _crepe_model(capacity)
    frames = torch.randn(16, 1024, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(frames)
        ours = torch.sigmoid(model.classifier(_penultimate(model, frames)))
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-5)


def test_crepe_ignores_trailing_silence_but_not_without_the_gate(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    clips = kit_halves[0][::3]
    padded = torch.nn.functional.pad(clips, (0, clips.shape[-1]))
    plain = crepe_embeddings(clips, KIT_RATE)
    relative = lambda other: ((other - plain).norm(dim=1) / plain.norm(dim=1)).max()  # noqa: E731
    assert relative(crepe_embeddings(padded, KIT_RATE)) < 0.05
    assert relative(crepe_embeddings(padded, KIT_RATE, active_db=1000.0)) > 0.1


def test_crepe_resamples_to_16k_itself(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    clips = kit_halves[1][:3]
    at_16k = crepe_embeddings(resample(clips, KIT_RATE, 16000), 16000)
    torch.testing.assert_close(crepe_embeddings(clips, KIT_RATE), at_16k, rtol=1e-4, atol=1e-5)


def test_bad_requests_are_rejected() -> None:
    audio = torch.zeros(2, 1, 4096)
    with pytest.raises(ValueError, match="unknown feature set"):
        extract_features(audio, 16000, ["vggish"])
    with pytest.raises(ValueError, match="crepe model"):
        crepe_embeddings(audio, 16000, model="huge")
    with pytest.raises(ValueError, match="channels, samples"):
        logmel_stats(torch.zeros(4096), 16000)
