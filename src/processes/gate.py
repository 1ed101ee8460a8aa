"""A learned local signal level for the process's skip connection (a Wiener gate).

Every process's denoiser passes part of its noisy input straight through (EDM's c_skip, the
alpha * x_t inside v-diffusion's x_0 = alpha x_t - sigma v). That share is the Wiener gain for data
of one fixed variance, so where a one-shot has decayed to silence the network must cancel the
noise it was handed sample by sample, and the small error it leaves is the hiss after every hit.

With a gate the network returns a second set of channels, the log of the clean signal's power
at each element, log p (in units of the process's data variance). The skip becomes the Wiener
gain for that power,
    E[x_0 | x_t] = alpha p / (alpha^2 p + sigma^2) x_t,
so silence (p -> 0) is removed whatever the noise, loud content (p >= 1) passes, and the network
learns a smooth level (an envelope) where it had to learn an exact cancellation. p = 1 everywhere
is the plain process: a gated network starts as its ungated self when its log p outputs start
near 0. On an orthogonal filterbank (WaveformRepresentation.mdct_bands) the level is per band
and frame, which is what a kick (one loud low band, the rest silent) needs."""

from __future__ import annotations

import torch

from src.networks.base import local_power

# log p is clamped to this range: e^-20 is 87 dB below the data's level, far under any tail a
# clip keeps, and the clamp keeps exp() and the gains finite at the smallest noise levels.
LOG_POWER_RANGE = (-20.0, 10.0)


def split_gate(output: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(residual, log power) from a gated network's output of twice x's channels."""
    if output.shape[1] != 2 * x.shape[1]:
        raise ValueError(f"a gated process needs a network that returns a gate channel per input channel "
                         f"({2 * x.shape[1]} channels), got {output.shape[1]}: set model.network.gate=true")
    return output.chunk(2, dim=1)


def gate_power(log_power: torch.Tensor) -> torch.Tensor:
    """The power p a gate sets from its log-power channels, inside LOG_POWER_RANGE."""
    return log_power.clamp(*LOG_POWER_RANGE).exp()


def gated_v(output: torch.Tensor, x_t: torch.Tensor, alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """v-diffusion's prediction v = (alpha x_t - x_0) / sigma, with the gate's Wiener skip.

    With x_0 = alpha p / (alpha^2 p + sigma^2) x_t - sigma r, v is r plus a gain on x_t; written
    as below (using alpha^2 + sigma^2 = 1) it is finite at both ends of the path: 0 at p = 1,
    alpha / sigma in silence, and 0 at alpha = 0."""
    residual, log_power = split_gate(output, x_t)
    power = gate_power(log_power)
    gain = alpha * sigma * (1.0 - power) / (alpha.square() * power + sigma.square())
    return residual + gain * x_t


# The level loss's floor, e^-14 (61 dB under the data's unit level): the quality scale's features
# floor at 60 dB under a clip's peak, so below this a gate need not tell one silence from another.
LEVEL_FLOOR = -14.0
# Frames (hops of the MDCT) the clean power is averaged over before its log is taken: one element's
# square is a single noisy draw of its band's level; five hops of 32 bands at 16 kHz are 10 ms, half
# a 50 Hz kick's period, so even a low-path tone's level is a smooth envelope.
LEVEL_WINDOW = 5


def local_log_power(x0: torch.Tensor) -> torch.Tensor:
    """The clean tensor's power averaged over LEVEL_WINDOW neighbouring frames (last axis), as a log
    floored at LEVEL_FLOOR: the level a gate should set at each element."""
    return local_power(x0, LEVEL_WINDOW).clamp_min(1e-30).log().clamp_min(LEVEL_FLOOR)


# Above this many nats too shut, the Itakura-Saito term grows linearly, not exponentially: an
# untrained gate (log p near 0) under a kick's low path (7 nats) would otherwise give those few
# elements gradients a thousand times the rest's.
IS_LINEAR_ABOVE = 4.0


def itakura_saito(gap: torch.Tensor) -> torch.Tensor:
    """2 (e^d - d - 1) for d = log p_clean - log p_gate: the Itakura-Saito divergence of the two
    powers, scaled so that near d = 0 it is d^2 like the squared log. It depends on the ratio only,
    so a quiet tail counts as much as a loud attack, but its minimum over an uncertain level is
    the mean power, not the mean log power. Linear (same slope) above IS_LINEAR_ABOVE."""
    capped = gap.clamp_max(IS_LINEAR_ABOVE)
    return 2.0 * (capped.exp() - capped - 1.0 + (capped.exp() - 1.0) * (gap - capped))


def level_error(output: torch.Tensor, x0: torch.Tensor, skip: int = 0, power_channels: int = 0) -> torch.Tensor:
    """Mean divergence of a gated network's log power from the clean tensor's, over every channel
    from `skip` on.

    Through the Wiener skip alone a nearly shut gate learns little: the skip's gain moves with
    p / sigma^2, so a tail louder than the gate's level (an open hat among closed ones) barely
    moves it. Fitting log p to the clean level keeps a gradient at every level. Where the clean
    level is at the floor only a gate above the floor is wrong.

    The divergence is the squared error in nats: where the network cannot tell the level from its
    input, it sets the mean log level. For a class it still sets one envelope for (the waveform
    demo's hats), that is the closed hats' decay rather than one between open and closed
    (benchmarks/README.md, "one envelope per class"). The first `power_channels` channels (from
    `skip`) are fitted by Itakura-Saito instead, which sets the mean power there: near t = 1
    without a label the mean log of a kick's loud low path and a hat's silence is 9 nats under
    their mean power, and the Wiener skip then shuts out what the noise begins to show of a kick
    (benchmarks/README.md, "the gate's level near t = 1")."""
    return level_error_to(output, local_log_power(x0), skip, power_channels)


def output_level(output: torch.Tensor) -> torch.Tensor:
    """A gated network's log power as a level target: inside LOG_POWER_RANGE, floored at LEVEL_FLOOR
    as local_log_power is (a teacher's level for level_error_to)."""
    _, log_power = output.chunk(2, dim=1)
    return log_power.clamp(*LOG_POWER_RANGE).clamp_min(LEVEL_FLOOR)


def level_error_to(output: torch.Tensor, target: torch.Tensor, skip: int = 0, power_channels: int = 0) -> torch.Tensor:
    """level_error against a given target level (log power per element, floored at LEVEL_FLOOR,
    shaped like the clean tensor): the clean tensor's own (local_log_power), or a teacher's."""
    _, log_power = split_gate(output, target)
    gap = target[:, skip:] - log_power[:, skip:]
    gap = torch.where(target[:, skip:] > LEVEL_FLOOR, gap, gap.clamp_max(0.0))  # at the floor: only a gate above it
    # summed part by part over all elements: no concatenated copy of the whole tensor at every step
    total = itakura_saito(gap[:, :power_channels]).sum() + gap[:, power_channels:].square().sum()
    return total / gap.numel()
