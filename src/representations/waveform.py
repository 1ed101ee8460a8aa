"""The waveform representation: the model diffuses raw samples, times a fixed gain."""

from __future__ import annotations

import math

import torch

from src.representations.base import Representation
from src.representations.lowband import LowBandSplit
from src.representations.mdct import CircularMDCT


class WaveformRepresentation(Representation):
    """Args as Representation, plus:
        scale: model tensors are audio * scale. Diffusion processes are tuned for data of about unit
            spread (v_cosine and ddpm add unit noise; edm expects sigma_data), while one-shots spend
            most of their length decaying towards silence: a clip set with an RMS of 0.15 trains on
            noise levels far above its own for most of a run. 1 keeps the audio as it is.
        mu_law: > 0 compands samples first, sign(a) * log(1 + mu |a|) / log(1 + mu) (mu = 255 is
            8-bit mu-law), and expands them back when decoding. A one-shot spans 50 dB or more from
            its attack to its tail; in raw samples the network's error at the tail's level is audible
            as a constant hiss. Companded, quiet samples are large, and an error near silence shrinks
            by about log(1 + mu) / mu (46x at 255) when expanded. 0 (default): raw samples.
        mdct_bands: > 0 diffuses the clip's circular MDCT (src/representations/mdct.py) with that many
            bands (even) instead of its samples: (channels * bands, length / bands) tensors, low bands
            first. The transform is orthogonal, so the noise stays white, but a band a drum leaves
            empty (a hat has no lows, a kick's tail no highs) is then a channel the network can
            silence outright, where in samples it has to learn a precise filter. Frames overlap by
            one hop of `mdct_bands` samples; inpainting pastes the input back over kept spans and
            blends it into the gap over two hops (src/generation/modes/modes.py). 0 (default): samples.
        mdct_kbd_alpha: the MDCT's window: 0 (default) the sine window, > 0 a Kaiser-Bessel-derived
            window of that alpha (4 as in AAC). Under the sine window a kick's steady low tone puts
            coefficients at about -50 dB in every band, which cancel on the inverse; a band that
            should be silent is then not, and a model's error there is a broadband floor. KBD
            leaves them 25 dB lower (src/representations/mdct.py).
        mdct_low_bands: k > 0 moves the lowest k bands' worth of spectrum (below k * rate / (2 *
            mdct_bands) Hz: 500 Hz for k = 2 of 32 bands at 16 kHz) out of the MDCT into k channels of
            the clip's own samples at that low rate, ahead of the bands (src/representations/lowband.py).
            A short MDCT frame cannot resolve a kick's or a snare's tone, which then spreads over its
            lowest bands in values a model must reproduce exactly; as samples it is a smooth curve.
            Needs mdct_bands. 0 (default): all of the spectrum in the MDCT.
        mdct_low_gain: the low-path channels are multiplied by this after `scale` (and divided back
            when decoding), which lowers the noise the process adds below the cut-off, as heard in
            the audio, by the same factor at every step: a kick's tone then stands out of the noise
            early in sampling and the later steps leave less of it beside the tone (6 in the waveform
            demo; benchmarks/README.md has the sweep). 1 (default): the same noise as every band.
        mdct_shift: the clip is delayed circularly by this many hops of `mdct_bands` samples before
            the transform (and advanced back when decoding). The circular MDCT's last frame wraps
            from the clip's end to its start, so a one-shot's attack is shared by the first frame and
            the last, at the two ends of the tensor, which the network's convolutions never see
            together; it has to guess the last, and its error lands in the attack and at the clip's
            end. Shifted by one hop, the attack's frames sit side by side at the start and the wrap
            falls in the tail. The transform stays orthogonal (it is a rotation of the frames).
            0 (default): no shift; raw samples (mdct_bands 0) have no frames to shift, and none is made.
        mdct_low_sub_bands: s > 0 (dividing mdct_low_bands, and smaller) carries the low path's part
            below s * rate / (2 * mdct_bands) Hz (250 Hz for s = 1 of 32 bands at 16 kHz) in s more
            channels of its own samples, at that lower rate, ahead of the low path, whose channels
            then hold only the rest (250 to 500 Hz). A gated process sets one level per element: on
            one low path a kick's tone holds it open across 0 to 500 Hz, and the noise beside the
            tone stays; split, the upper part a kick leaves empty can be shut. Those channels are
            multiplied by mdct_low_gain too. 0 (default): one low path.
        end_fade_ms: clips sampled from noise end with a half-cosine fade to silence over this many
            milliseconds (`finish`; training data and the generation modes are untouched). On the
            circular MDCT the frame that holds a one-shot's attack also holds the clip's last hop,
            and the network's error in that loud frame lands there: a click about 11 dB under the
            peak in the waveform demo's hats, whose kit tails are silent there. Sample editors fade
            a one-shot's end for the same reason. 0 (default): no fade.
    """

    def __init__(self, sample_rate: int, channels: int, length: int, scale: float = 1.0,
                 mu_law: float = 0.0, mdct_bands: int = 0, mdct_kbd_alpha: float = 0.0,
                 mdct_low_bands: int = 0, mdct_low_gain: float = 1.0, mdct_shift: int = 0,
                 mdct_low_sub_bands: int = 0, end_fade_ms: float = 0.0) -> None:
        super().__init__(sample_rate, channels, length)
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"model.representation.scale must be a positive number, got {scale}")
        if not (math.isfinite(mu_law) and mu_law >= 0):
            raise ValueError(f"model.representation.mu_law must be 0 (off) or positive, got {mu_law}")
        self.scale = scale
        self.mu_law = mu_law
        self.mdct = CircularMDCT(mdct_bands, mdct_kbd_alpha) if mdct_bands else None
        if self.mdct is not None:
            self.mdct.check_length(length)
        if mdct_low_bands and self.mdct is None:
            raise ValueError("model.representation.mdct_low_bands needs mdct_bands > 0: it splits the MDCT's lowest bands off")
        if not (math.isfinite(mdct_low_gain) and mdct_low_gain > 0):
            raise ValueError(f"model.representation.mdct_low_gain must be a positive number, got {mdct_low_gain}")
        if mdct_low_sub_bands and not mdct_low_bands:
            raise ValueError("model.representation.mdct_low_sub_bands needs mdct_low_bands > 0: it splits the low path")
        self.low = LowBandSplit(mdct_bands, mdct_low_bands, mdct_low_sub_bands) if mdct_low_bands else None
        self.low_gain = mdct_low_gain
        if mdct_shift < 0:
            raise ValueError(f"model.representation.mdct_shift must be 0 or a positive number of hops, got {mdct_shift}")
        self.shift = mdct_shift * mdct_bands  # in samples: none on raw samples (mdct_bands 0), which have no frames
        self.end_fade = round(end_fade_ms * sample_rate / 1000) if math.isfinite(end_fade_ms) else -1
        if not 0 <= self.end_fade < length:
            raise ValueError(f"model.representation.end_fade_ms must be 0 (off) or a positive length shorter than "
                             f"the clip ({1000 * length / sample_rate:g} ms), got {end_fade_ms}")

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        if self.mu_law:
            audio = audio.sign() * torch.log1p(self.mu_law * audio.abs()) / math.log1p(self.mu_law)
        x = audio * self.scale if self.scale != 1.0 else audio
        if self.shift:
            x = x.roll(self.shift, dims=-1)
        if self.low is not None:
            low, rest = self.low(x)
            return torch.cat([low * self.low_gain, self.mdct(rest)], dim=1)
        return self.mdct(x) if self.mdct is not None else x

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        if self.low is not None:
            split = self.low_channels
            x = self.low.inverse(x[:, :split] / self.low_gain) + self.mdct.inverse(x[:, split:])
        elif self.mdct is not None:
            x = self.mdct.inverse(x)
        if self.shift:
            x = x.roll(-self.shift, dims=-1)
        x = x / self.scale if self.scale != 1.0 else x
        if self.mu_law:  # clamped: expansion is exponential, and a sample beyond full scale is clipped anyway
            x = x.clamp(-1.0, 1.0)
            x = x.sign() * torch.expm1(x.abs() * math.log1p(self.mu_law)) / self.mu_law
        return x

    def finish(self, audio: torch.Tensor) -> torch.Tensor:
        if not self.end_fade:
            return audio
        n = min(self.end_fade, audio.shape[-1])  # a clip generated shorter than the fade fades whole
        ramp = 0.5 * (1.0 + torch.cos(math.pi * torch.arange(1, n + 1, device=audio.device) / n))  # to 0 at the end
        return torch.cat([audio[..., :-n], audio[..., -n:] * ramp.to(audio.dtype)], dim=-1)

    @property
    def low_channels(self) -> int:
        """How many of a model tensor's channels, ahead of the MDCT bands, hold the low path (0: none)."""
        return self.channels * self.low.rows if self.low is not None else 0

    def tensor_shape(self, length: int | None = None) -> tuple[int, ...]:
        length = length or self.length
        if self.mdct is None:
            return (self.channels, length)
        self.mdct.check_length(length)
        return (self.channels * self.mdct.bands + self.low_channels, length // self.mdct.bands)

    def time_mask(self, keep: torch.Tensor) -> torch.Tensor:
        """MDCT frame j spans samples [j N, j N + 2 N) of the shifted clip (the last wraps to the
        start): kept only when all of them are. The low path's column j (samples from hop j) follows
        its frame; its interpolation reaches a little further, which the paste of the kept audio covers."""
        if self.mdct is None:
            return super().time_mask(keep)
        n = self.mdct.bands
        keep = keep.roll(self.shift, dims=-1) if self.shift else keep
        wrapped = torch.cat([keep, keep[:n]])
        return wrapped.unfold(0, 2 * n, n).all(dim=-1).float()
