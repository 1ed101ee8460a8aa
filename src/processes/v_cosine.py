"""v-diffusion on the cosine path (Salimans & Ho 2022), as audio-diffusion-pytorch trains it.

alpha = cos(pi t / 2), sigma = sin(pi t / 2) for t in [0, 1]; the network predicts
v = alpha * eps - sigma * x_0 from x_t and c_noise = t; times are uniform in training and
the loss is the plain MSE on v. The operations and their order are ADP's VDiffusion and
VSampler, so tiny-audio-diffusion models train and sample as they did there."""

from __future__ import annotations

import math

import torch

from src.networks.base import NetworkFn
from src.processes.base import Process, batch_times, per_item
from src.processes.gate import gated_v, level_error_to, local_log_power, output_level
from src.processes.weighting import SpectralLevelWeighting


# sigma / alpha from 10 to 3000 (t from 0.937 to 0.9998): where a loud, nearly fixed part of a class
# (a kick's low path) begins to show through the noise, and the null label chooses a class
HIGH_NOISE_RATIOS = (10.0, 3000.0)


class VCosineProcess(Process):
    """`time_power` > 1 draws training times as u ** time_power (u uniform): more of training at low
    noise, where a clip's quiet tail is told apart from hiss; 1 (the default) is ADP's uniform draw.

    `weighting` (a SpectralLevelWeighting, src/processes/weighting.py) replaces the plain MSE on v by
    one weighted towards the time-frequency bins a clip leaves quiet; None (the default) is ADP's
    plain MSE.

    `gate` reads a gated network's second half of channels as the clean signal's log power and
    passes the noisy input through with the Wiener gain for it (src/processes/gate.py), so a
    silent stretch or band is removed by a smooth level instead of a sample-exact cancellation.
    It needs `model.network.gate`; False (the default) is ADP's v prediction.

    `cosine_spacing` w in [0, 1] places the sampler's times at w (1 - cos(pi u)) / 2 + (1 - w) u for
    u evenly spaced from 1 to 0: 0 (the default) is ADP's even spacing; towards 1 more of the steps
    sit near both ends of the path, where a loud, early-settled part of a clip takes its shape
    (t near 1) and a quiet tail is cleaned (t near 0), and fewer in between.

    `min_noise_ratio` r > 0 ends that spacing at the time where sigma / alpha = r (EDM's sigma_min;
    0.002 is 54 dB under the data), then takes one last step to 0. Spaced down to 0, the last
    noisy time of a few-step grid is far from clean (t = 0.025 at ten cosine-spaced steps, 25 times
    fifty's), and the last step leaves sigma times the network's error there in every band the gate
    shuts: steady tones under each hat. None (the default) spaces the grid down to 0, as ADP does.

    `log_snr_input` s > 0 hands the network c_noise = ln(sigma / alpha) / s, clipped to [-1, 1],
    instead of t. UNetV0's noise embedding is a Fourier feature of slow, learned frequencies, so on
    t it barely tells t = 0.95 from t = 0.995, where sigma / alpha grows tenfold and a class with a
    loud early part (a kick's low path) is decided; on the log ratio (EDM's c_noise) that stretch
    is a third of the range. None (the default, and every earlier checkpoint) hands it t, as ADP.

    `min_snr_gamma` g weights each clip's loss by min(SNR, g) / (SNR + 1), SNR = alpha^2 / sigma^2:
    the clean-clip error then counts min(SNR, g) times (Hang et al. 2023, "Min-SNR"), so the few
    nearly clean draws, whose errors v's 1 / sigma^2 makes largest, stop dominating a batch's
    gradient. None (the default) is ADP's plain MSE on v.

    `gate_level_weight` w > 0 adds w times the gate's own error, in nats, against the clean tensor's
    local log power (src/processes/gate.py, `level_error`): the gate's level is then fitted in
    nats, where a quiet tail counts as much as a loud attack. It needs `gate`; 0 (the
    default) trains the gate through the v error alone. `gate_level_skip` leaves that many leading
    channels to the v error alone (a waveform's low path, whose samples a level per element cannot
    shape: see configs/model/process/v_cosine.yaml). `gate_level_power_channels` fits the first that
    many of the rest by their mean power (Itakura-Saito) instead of their mean log (src/processes/gate.py).

    `lead_weight` w makes the v error of the first `lead_channels` channels count w times in the draws
    above t = `lead_weight_above`. A waveform's low path travels at a gain g (src/representations/
    lowband.py), so near pure noise, where v is nearly minus the clean clip, a kick there gives its
    batch g^2 times the error; w = 1 / g^2 counts it as at unit gain. 1 (the default) is ADP's MSE."""

    name = "v_cosine"
    default_sampler = "ddim"
    takes_null_copies = True

    def __init__(self, time_power: float = 1.0, weighting: SpectralLevelWeighting | None = None,
                 gate: bool = False, cosine_spacing: float = 0.0, min_snr_gamma: float | None = None,
                 gate_level_weight: float = 0.0, gate_level_skip: int = 0,
                 gate_level_power_channels: int = 0, min_noise_ratio: float | None = None,
                 log_snr_input: float | None = None, high_noise_share: float = 0.0,
                 lead_channels: int = 0, lead_weight: float = 1.0, lead_weight_above: float = 0.0) -> None:
        super().__init__()
        if lead_channels < 0 or lead_weight <= 0 or not 0.0 <= lead_weight_above < 1.0:
            raise ValueError(f"process.lead_channels must be 0 or more, lead_weight positive and lead_weight_above "
                             f"in [0, 1), got {lead_channels}, {lead_weight} and {lead_weight_above}")
        self.lead_channels, self.lead_weight, self.lead_weight_above = lead_channels, lead_weight, lead_weight_above
        if not 0.0 <= high_noise_share < 1.0:
            raise ValueError(f"process.high_noise_share must be in [0, 1), got {high_noise_share}")
        self.high_noise_share = high_noise_share
        if log_snr_input is not None and log_snr_input <= 0:
            raise ValueError(f"process.log_snr_input must be positive or null (the network reads t), got {log_snr_input}")
        self.log_snr_input = log_snr_input
        if gate_level_weight < 0 or (gate_level_weight and not gate):
            raise ValueError(f"process.gate_level_weight must be 0 (off) or positive with a gate "
                             f"(model.network.gate=true), got {gate_level_weight} with gate={gate}")
        if gate_level_skip < 0:
            raise ValueError(f"process.gate_level_skip must be 0 or more channels, got {gate_level_skip}")
        if gate_level_power_channels < 0 or (gate_level_power_channels and not gate_level_weight):
            raise ValueError(f"process.gate_level_power_channels must be 0, or a count of channels with a level loss "
                             f"(process.gate_level_weight > 0), got {gate_level_power_channels} with weight "
                             f"{gate_level_weight}")
        self.gate_level_weight, self.gate_level_skip = gate_level_weight, gate_level_skip
        self.gate_level_power_channels = gate_level_power_channels
        if min_snr_gamma is not None and min_snr_gamma <= 0:
            raise ValueError(f"process.min_snr_gamma must be positive or null (off), got {min_snr_gamma}")
        self.min_snr_gamma = min_snr_gamma
        if time_power <= 0:
            raise ValueError(f"process.time_power must be positive, got {time_power}")
        if not 0.0 <= cosine_spacing <= 1.0:
            raise ValueError(f"process.cosine_spacing must be between 0 (even) and 1 (cosine), got {cosine_spacing}")
        self.cosine_spacing = cosine_spacing
        self.min_noise_ratio = min_noise_ratio
        self.time_power = time_power
        self.weighting = weighting
        self.gate = gate

    @property
    def min_noise_ratio(self) -> float | None:
        return self._min_noise_ratio

    @min_noise_ratio.setter
    def min_noise_ratio(self, ratio: float | None) -> None:
        # A setter, so a loaded model sampled on another grid (benchmarks) is checked as config is.
        if ratio is not None and ratio <= 0:
            raise ValueError(f"process.min_noise_ratio must be positive or null (space down to 0), got {ratio}")
        self._min_noise_ratio = ratio

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        angle = torch.as_tensor(t) * math.pi / 2
        return torch.cos(angle), torch.sin(angle)

    def network_time(self, t: torch.Tensor) -> torch.Tensor:
        """The c_noise the network reads at times t: t itself, or the scaled log of sigma / alpha."""
        if self.log_snr_input is None:
            return t
        # tan(pi t / 2) = sigma / alpha; its log is clipped where it leaves [-s, s] (t = 0 and 1 included)
        ratio = torch.tan(torch.as_tensor(t, dtype=torch.float64) * math.pi / 2).clamp_min(1e-300)
        return (ratio.log() / self.log_snr_input).clamp(-1.0, 1.0).to(torch.as_tensor(t).dtype)

    def schedule(self, steps: int) -> torch.Tensor:
        self.check_steps(steps)
        if self.min_noise_ratio is None:
            return self.spaced(torch.linspace(1.0, 0.0, steps + 1))  # VSampler's linear schedule, spaced
        last = 2.0 / math.pi * math.atan(self.min_noise_ratio)  # tan(pi t / 2) = sigma / alpha
        times = last + (1.0 - last) * self.spaced(torch.linspace(1.0, 0.0, steps))
        return torch.cat([times, torch.zeros(1)])

    def spaced(self, even: torch.Tensor) -> torch.Tensor:
        """Evenly spaced times from 1 to 0, moved towards both ends by `cosine_spacing`."""
        if not self.cosine_spacing:
            return even
        return self.cosine_spacing * (1.0 - torch.cos(math.pi * even)) / 2.0 + (1.0 - self.cosine_spacing) * even

    def denoise(self, network: NetworkFn, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = batch_times(t, x_t).to(x_t.dtype)
        alpha, sigma = (per_item(s, x_t) for s in self.alpha_sigma(t))
        v = self.predict_v(network, x_t, t, alpha, sigma)
        return alpha * x_t - sigma * v, sigma * x_t + alpha * v

    def loss(self, network: NetworkFn, x0: torch.Tensor, null_copies: int = 0) -> torch.Tensor:
        """The batch's loss; with `null_copies` (at most the batch) also that of the null label's
        copies of the first items (Process.with_null_copies), each counted as one more item."""
        t = torch.rand(x0.shape[0], device=x0.device)  # ADP draws the times first, then the noise
        if self.time_power != 1.0:
            t = t ** self.time_power
        if self.high_noise_share:
            t = self.with_high_noise(t)
        noise = torch.randn_like(x0)
        alpha, sigma = (per_item(s, x0) for s in self.alpha_sigma(t))
        x_t = alpha * x0 + sigma * noise
        output, student = self.with_null_copies(network, x_t, self.network_time(t), null_copies)
        level = local_log_power(x0) if self.gate_level_weight else None
        loss = self.fit(output, x_t, t, alpha * noise - sigma * x0, level, x0)
        if student is None:
            return loss
        k = student.shape[0]
        teacher = output[:k].detach()
        v_teacher = self.v_from_output(teacher, x_t[:k], alpha[:k], sigma[:k])
        level = output_level(teacher) if self.gate_level_weight else None
        null_loss = self.fit(student, x_t[:k], t[:k], v_teacher, level, x0[:k])
        return self.with_copies_loss(loss, null_loss, x0.shape[0], k)

    def fit(self, output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, v_target: torch.Tensor,
            level: torch.Tensor | None, x0: torch.Tensor) -> torch.Tensor:
        """The loss of `output` at x_t against `v_target` (and, with a level loss, a gate `level`);
        x0 is the clean batch, which the spectral weighting reads."""
        alpha, sigma = (per_item(s, x_t) for s in self.alpha_sigma(t))
        error = self.v_from_output(output, x_t, alpha, sigma) - v_target
        if self.lead_channels and self.lead_weight != 1.0:
            error = self.weigh_lead(error, t)
        if self.min_snr_gamma is not None:
            error = error * self.snr_weight(alpha, sigma).sqrt()
        loss = self.weighting(error, x0, alpha, sigma) if self.weighting is not None else error.pow(2).mean()
        if self.gate_level_weight:
            loss = loss + self.gate_level_weight * level_error_to(output, level, self.gate_level_skip,
                                                                   self.gate_level_power_channels)
        return loss

    def weigh_lead(self, error: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """`error` with its first `lead_channels` channels scaled by sqrt(lead_weight) (so their squares
        count lead_weight times) in the items drawn above t = `lead_weight_above`."""
        scale = torch.where(t > self.lead_weight_above, math.sqrt(self.lead_weight), 1.0).to(error.dtype)
        lead = error[:, :self.lead_channels] * per_item(scale, error)
        return torch.cat([lead, error[:, self.lead_channels:]], dim=1)

    def with_high_noise(self, t: torch.Tensor) -> torch.Tensor:
        """t with a `high_noise_share` of its items redrawn in HIGH_NOISE_RATIOS, evenly in log ratio."""
        high = torch.rand_like(t) < self.high_noise_share
        low, top = (math.log(r) for r in HIGH_NOISE_RATIOS)
        log_ratio = low + (top - low) * torch.rand_like(t)
        return torch.where(high, 2.0 / math.pi * torch.atan(log_ratio.exp()), t)

    def snr_weight(self, alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """min(SNR, gamma) / (SNR + 1): with SNR = alpha^2 / sigma^2 and alpha^2 + sigma^2 = 1 it is
        min(alpha^2, gamma sigma^2), finite at both ends of the path."""
        return torch.minimum(alpha.square(), self.min_snr_gamma * sigma.square())

    def predict_v(self, network: NetworkFn, x_t: torch.Tensor, t: torch.Tensor,
                  alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.v_from_output(network(x_t, self.network_time(t)), x_t, alpha, sigma)

    def v_from_output(self, output: torch.Tensor, x_t: torch.Tensor, alpha: torch.Tensor,
                      sigma: torch.Tensor) -> torch.Tensor:
        return gated_v(output, x_t, alpha, sigma) if self.gate else output
