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
