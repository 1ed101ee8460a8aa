"""The waveform representation: raw samples times a fixed gain."""

from __future__ import annotations

import pytest
import torch

from src.representations.waveform import WaveformRepresentation


def test_scale_is_undone_by_decode():
    rep = WaveformRepresentation(16000, 1, 64, scale=4.0)
    audio = torch.rand(2, 1, 64) - 0.5
    assert torch.allclose(rep.encode(audio), 4 * audio)
    assert torch.allclose(rep.decode(rep.encode(audio)), audio)
    assert rep.tensor_shape() == (1, 64) and rep.tensor_shape(128) == (1, 128)


def test_scale_must_be_positive():
    with pytest.raises(ValueError, match="model.representation.scale must be a positive number"):
        WaveformRepresentation(16000, 1, 64, scale=0.0)


def test_mu_law_round_trips_and_lifts_quiet_samples():
    rep = WaveformRepresentation(16000, 1, 64, scale=2.0, mu_law=255.0)
    audio = torch.linspace(-1.0, 1.0, 64).view(1, 1, 64) ** 3  # loud and very quiet samples
    assert torch.allclose(rep.decode(rep.encode(audio)), audio, atol=1e-6)
    quiet = torch.full((1, 1, 64), 0.003)  # -50 dBFS
    assert rep.encode(quiet).mean() / 2.0 > 0.1  # companded to about -19 dB
    # an error near silence shrinks when expanded: what keeps a generated tail from hissing
    error = 0.01
    assert rep.decode(torch.full((1, 1, 64), 2.0 * error)).abs().max() < error / 40


def test_mu_law_decode_clips_beyond_full_scale_and_rejects_negative_mu():
    rep = WaveformRepresentation(16000, 1, 64, mu_law=255.0)
    assert rep.decode(torch.full((1, 1, 64), 3.0)).max() <= 1.0
    with pytest.raises(ValueError, match="mu_law"):
        WaveformRepresentation(16000, 1, 64, mu_law=-1.0)
