"""The waveform representation: raw samples times a fixed gain."""

from __future__ import annotations

import math

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


def test_mdct_is_an_orthogonal_filterbank():
    from src.representations.mdct import CircularMDCT

    mdct = CircularMDCT(16)
    x = torch.randn(3, 2, 256)
    y = mdct(x)
    assert y.shape == (3, 32, 16)
    assert torch.allclose(mdct.inverse(y), x, atol=1e-5)
    assert torch.allclose(y.pow(2).sum(), x.pow(2).sum(), rtol=1e-5)  # energy kept: unit noise stays unit noise
    z = torch.randn(3, 32, 16)
    assert torch.allclose(mdct(mdct.inverse(z)), z, atol=1e-5)  # square: every coefficient tensor is a clip
    # a low tone lands in the first band of its channel, a high one in the last
    t = torch.arange(256) / 256.0
    tones = torch.stack([torch.sin(2 * math.pi * 4 * t), torch.sin(2 * math.pi * 124 * t)])[None]
    energy = mdct(tones).pow(2).sum(-1)[0]
    assert energy[:16].argmax() == 0 and energy[16:].argmax() == 15
    with pytest.raises(ValueError, match="mdct_bands"):
        CircularMDCT(3)
    with pytest.raises(ValueError, match="multiple of mdct_bands"):
        mdct(torch.randn(1, 1, 100))


@pytest.mark.parametrize("kbd_alpha", [0.0, 4.0])
def test_mdct_windows_reconstruct_and_a_kbd_window_leaks_far_less(kbd_alpha):
    from src.representations.mdct import CircularMDCT, mdct_window

    window = mdct_window(32, kbd_alpha)
    assert torch.allclose(window[:32] ** 2 + window[32:] ** 2, torch.ones(32, dtype=window.dtype))  # Princen-Bradley
    mdct = CircularMDCT(32, kbd_alpha)
    x = torch.randn(2, 1, 1024)
    assert torch.allclose(mdct.inverse(mdct(x)), x, atol=1e-5)
    # a steady 60 Hz tone at 16 kHz (a kick's tail): its level in the bands above 2 kHz, against band 0
    tone = torch.sin(2 * math.pi * 60 * torch.arange(8192) / 16000).view(1, 1, -1)
    rms = mdct(tone)[..., 4:-4].std(-1)[0]  # away from the wrap, where the clip's ends meet
    leak_db = 20 * torch.log10(rms[8:].max() / rms[0]).item()
    assert leak_db < (-70 if kbd_alpha else -40)
    if not kbd_alpha:
        assert leak_db > -60  # the sine window's leak, which KBD exists to remove
    with pytest.raises(ValueError, match="mdct_kbd_alpha"):
        CircularMDCT(32, -1.0)


def test_mdct_representation_shapes_round_trip_and_time_mask():
    rep = WaveformRepresentation(16000, 1, 512, scale=2.0, mdct_bands=32)
    audio = 0.5 * torch.randn(2, 1, 512)
    x = rep.encode(audio)
    assert x.shape == (2, 32, 16) and rep.tensor_shape() == (32, 16) and rep.tensor_shape(1024) == (32, 32)
    assert torch.allclose(rep.decode(x), audio, atol=1e-5)
    keep = torch.zeros(512, dtype=torch.bool)
    keep[:200] = True  # frames of 64 samples at hop 32: frames 0..4 lie inside the first 200 samples
    assert rep.time_mask(keep).tolist() == [1.0] * 5 + [0.0] * 11
    with pytest.raises(ValueError, match="multiple of mdct_bands"):
        WaveformRepresentation(16000, 1, 500, mdct_bands=32)


def _kick(length: int = 8192, rate: int = 16000) -> torch.Tensor:
    """A 60 Hz tone with a 0.1 s decay: a kick's body, the part a short MDCT frame cannot resolve."""
    t = torch.arange(length) / rate
    return (torch.sin(2 * math.pi * 60 * t) * torch.exp(-t / 0.1)).view(1, 1, -1)


def _assert_rows_decode_to_unit_noise_below(rep: WaveformRepresentation, rows: int, hz: int) -> None:
    """Unit noise in a 16 kHz, 8192-sample representation's first `rows` rows decodes to as much
    energy, all of it below `hz`."""
    noise = torch.zeros(64, *rep.tensor_shape())
    noise[:, :rows] = torch.randn(64, rows, noise.shape[-1])
    audio = rep.decode(noise)
    assert audio.pow(2).sum().item() == pytest.approx(noise.pow(2).sum().item(), rel=0.02)
    spectrum = torch.fft.rfft(audio).abs().pow(2).mean(dim=(0, 1))
    assert spectrum[8192 * hz // 16000:].sum() < 1e-6 * spectrum.sum()


@pytest.mark.parametrize("low_bands", [1, 2, 4])
def test_low_band_split_round_trips_in_channels_ahead_of_the_bands(low_bands):
    rep = WaveformRepresentation(16000, 2, 1024, scale=3.0, mdct_bands=32, mdct_low_bands=low_bands)
    audio = 0.3 * torch.randn(2, 2, 1024)
    x = rep.encode(audio)
    assert x.shape == (2, 2 * (32 + low_bands), 32) and rep.tensor_shape() == (2 * (32 + low_bands), 32)
    assert rep.tensor_shape(2048) == (2 * (32 + low_bands), 64)
    assert torch.allclose(rep.decode(x), audio, atol=1e-5)
    # column j of the low path holds the samples of MDCT hop j: a click in hop 5 lands in column 5
    click = torch.zeros(1, 2, 1024)
    click[..., 5 * 32 + 16] = 1.0
    low = rep.encode(click)[0, : 2 * low_bands]
    assert low.abs().sum(0).argmax().item() == 5


def test_low_band_split_takes_a_kick_out_of_the_mdct_and_keeps_noise_white():
    rep = WaveformRepresentation(16000, 1, 8192, mdct_bands=32, mdct_low_bands=2)
    plain = WaveformRepresentation(16000, 1, 8192, mdct_bands=32)
    kick = _kick()
    # Under the plain MDCT the tone fills bands 1..4 beside band 0; split, the MDCT holds almost nothing
    # of it, so a model that gets those bands' values wrong no longer leaves a floor under the kick.
    near = plain.encode(kick)[:, 1:5].pow(2).sum() / kick.pow(2).sum()
    left = rep.encode(kick)[:, 2:].pow(2).sum() / kick.pow(2).sum()
    assert near > 0.01 and left < 1e-4
    # the low path is an isometry: unit noise in its channels decodes to unit noise below 500 Hz
    _assert_rows_decode_to_unit_noise_below(rep, 2, 500)
    with pytest.raises(ValueError, match="mdct_low_bands"):
        WaveformRepresentation(16000, 1, 8192, mdct_low_bands=2)
    with pytest.raises(ValueError, match="mdct_low_bands"):
        WaveformRepresentation(16000, 1, 8192, mdct_bands=32, mdct_low_bands=3)


def test_a_sub_path_takes_a_kick_out_of_the_low_path_s_upper_half():
    split = WaveformRepresentation(16000, 2, 8192, scale=2.0, mdct_bands=32, mdct_low_bands=2, mdct_low_gain=3.0,
                                   mdct_shift=1, mdct_low_sub_bands=1)
    audio = 0.3 * torch.randn(2, 2, 8192)
    x = split.encode(audio)
    assert x.shape == (2, 2 * (32 + 2 + 1), 256) and split.tensor_shape() == (70, 256) and split.low_channels == 6
    assert torch.allclose(split.decode(x), audio, atol=1e-5)
    # a 60 Hz kick lies in the sub path (below 250 Hz): the low path's rows, 250 to 500 Hz, and the
    # MDCT hold almost nothing of it (its abrupt start aside), so a gate can shut them while the tone
    # keeps the sub path open
    one = WaveformRepresentation(16000, 1, 8192, mdct_bands=32, mdct_low_bands=2, mdct_low_sub_bands=1)
    kick = one.encode(_kick())
    assert kick[:, 1:].pow(2).sum() < 1e-3 * kick[:, :1].pow(2).sum()
    # and a 400 Hz tone (a whole number of periods: the split is circular) lies in the low path's rows
    tone = torch.sin(2 * math.pi * 205 * torch.arange(8192) / 8192).view(1, 1, -1)
    rows = one.encode(tone)
    assert rows[:, :1].pow(2).sum() < 1e-4 * rows[:, 1:3].pow(2).sum()
    # unit noise in the sub path's row decodes to unit noise below 250 Hz
    _assert_rows_decode_to_unit_noise_below(one, 1, 250)
    with pytest.raises(ValueError, match="mdct_low_sub_bands"):
        WaveformRepresentation(16000, 1, 8192, mdct_bands=32, mdct_low_bands=2, mdct_low_sub_bands=2)
    with pytest.raises(ValueError, match="mdct_low_sub_bands"):
        WaveformRepresentation(16000, 1, 8192, mdct_bands=32, mdct_low_sub_bands=1)


def test_mdct_shift_moves_the_wrapped_frame_from_the_attack_to_the_tail():
    plain = WaveformRepresentation(16000, 1, 1024, scale=2.0, mdct_bands=32, mdct_low_bands=2, mdct_low_gain=3.0)
    shifted = WaveformRepresentation(16000, 1, 1024, scale=2.0, mdct_bands=32, mdct_low_bands=2, mdct_low_gain=3.0,
                                     mdct_shift=1)
    audio = 0.3 * torch.randn(2, 1, 1024)
    x = shifted.encode(audio)
    assert torch.allclose(shifted.decode(x), audio, atol=1e-5)
    assert torch.allclose(x, plain.encode(audio).roll(1, dims=-1), atol=1e-4)  # a rotation of the frames
    # A one-shot's attack (its first hop) reaches the unshifted tensor's first and last frames, far
    # apart; shifted, it reaches the first two, and the last frame holds only the tail.
    attack = torch.zeros(1, 1, 1024)
    attack[..., :32] = torch.randn(32)

    def reached(shift: int) -> list[int]:
        rep = WaveformRepresentation(16000, 1, 1024, mdct_bands=32, mdct_shift=shift)
        return (rep.encode(attack)[0].abs().sum(0) > 1e-4).nonzero().flatten().tolist()

    assert reached(0) == [0, 31] and reached(1) == [0, 1]
    # inpainting keeps the frames that lie wholly inside the kept samples, counted on the shifted clip
    keep = torch.zeros(1024, dtype=torch.bool)
    keep[:200] = True
    assert shifted.time_mask(keep).tolist() == [0.0] + [1.0] * 5 + [0.0] * 26
    raw = WaveformRepresentation(16000, 1, 1024, mdct_shift=1)  # raw samples have no frames: no shift
    assert torch.equal(raw.encode(audio), audio)
    with pytest.raises(ValueError, match="mdct_shift"):
        WaveformRepresentation(16000, 1, 1024, mdct_bands=32, mdct_shift=-1)


def test_end_fade_silences_only_the_last_milliseconds_of_sampled_clips():
    rep = WaveformRepresentation(16000, 1, 1024, end_fade_ms=4.0)  # 64 samples
    audio = torch.ones(2, 1, 1024)
    finished = rep.finish(audio)
    assert torch.equal(finished[..., :-64], audio[..., :-64])
    tail = finished[0, 0, -64:]
    assert tail[-1] == 0 and 0 < tail[0] < 1 and bool((tail[1:] <= tail[:-1]).all())  # falls steadily to silence
    assert torch.equal(rep.decode(rep.encode(audio)), audio)  # the round trip, and so training, is untouched
    assert torch.equal(WaveformRepresentation(16000, 1, 1024).finish(audio), audio)  # off by default
    short = rep.finish(torch.ones(1, 2, 32))  # generated shorter than the fade (generate.py length=...): fades whole
    assert short.shape == (1, 2, 32) and bool((short[..., -1] == 0).all()) and short[0, 0, 0] < 1


def test_end_fade_must_fit_the_clip():
    for bad in (-1.0, 64.0, math.nan):  # 64 ms is the whole 1024-sample clip
        with pytest.raises(ValueError, match="end_fade_ms"):
            WaveformRepresentation(16000, 1, 1024, end_fade_ms=bad)
