"""Every process: predictions invert its own noising, its loss trains, and it learns a tiny set."""

from __future__ import annotations

import math

import pytest
import torch

from src.processes.base import per_item
from src.samplers.base import Denoiser
from src.samplers.registry import make_sampler, sample
from tests.processes.helpers import PROCESSES, make_process, tiny_unetv0


class OracleNetwork(torch.nn.Module):
    """Returns a fixed output, whatever the input: lets a test set what the network 'predicts'."""

    def __init__(self, output: torch.Tensor) -> None:
        super().__init__()
        self.output = output
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        self.seen.append(c_noise)
        return self.output


def network_target(name: str, process, x0, eps, t):
    """What a perfect network outputs at (x0, eps, t) under each process's parametrisation."""
    alpha, sigma = (per_item(s, x0) for s in process.alpha_sigma(t))
    if name in ("v_cosine", "ddpm"):
        return alpha * eps - sigma * x0
    if name == "rectified_flow":
        return eps - x0
    if name == "ddpm_eps":
        return eps
    sd, s = process.sigma_data, sigma  # edm: F = (x0 - c_skip x) / c_out
    x_t = x0 + s * eps
    c_skip, c_out = sd**2 / (s**2 + sd**2), s * sd / (s**2 + sd**2).sqrt()
    return (x0 - c_skip * x_t) / c_out


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_denoise_inverts_the_forward_process(name):
    process = make_process(name)
    x0, eps = torch.rand(3, 1, 32) - 0.5, torch.randn(3, 1, 32)
    t = process.schedule(10)[3]
    alpha, sigma = process.alpha_sigma(t)
    network = OracleNetwork(network_target(name, process, x0, eps, t))
    got_x0, got_eps = process.denoise(network, alpha * x0 + sigma * eps, t)
    assert torch.allclose(got_x0, x0, atol=1e-4) and torch.allclose(got_eps, eps, atol=1e-4)
    assert network.seen[0].shape == (3,)  # one noise input per item


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_schedule_runs_from_noise_to_clean(name):
    process = make_process(name)
    levels = process.schedule(8)
    alpha, sigma = process.alpha_sigma(levels)
    ratio = sigma / alpha.clamp_min(1e-12)
    assert len(levels) == 9 and sigma[-1] == 0 and alpha[-1] == 1
    assert bool((ratio[1:] < ratio[:-1]).all()), "noise-to-signal must fall along the schedule"
    with pytest.raises(ValueError, match="steps must be at least 1"):
        process.schedule(0)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_loss_is_zero_for_a_perfect_network_and_backpropagates(name, monkeypatch):
    process = make_process(name)
    network = tiny_unetv0()
    loss = process.loss(network, torch.rand(4, 1, 32) - 0.5)
    loss.backward()
    assert torch.isfinite(loss) and any(p.grad is not None and p.grad.abs().sum() > 0 for p in network.parameters())


def two_clusters(n: int, generator: torch.Generator) -> torch.Tensor:
    """Clips that are a constant +0.5 or -0.5, each with a little noise: two points to learn."""
    signs = torch.randint(0, 2, (n, 1, 1), generator=generator) * 2.0 - 1.0
    return 0.5 * signs + 0.02 * torch.randn(n, 1, 32, generator=generator)


def cluster_error(x: torch.Tensor) -> float:
    """RMS distance of each clip to the nearer cluster centre, averaged."""
    to_plus = (x - 0.5).square().mean(dim=(1, 2)).sqrt()
    to_minus = (x + 0.5).square().mean(dim=(1, 2)).sqrt()
    return float(torch.minimum(to_plus, to_minus).mean())


@pytest.mark.parametrize("name", ["v_cosine", "edm", "rectified_flow", "ddpm"])
def test_each_process_learns_two_clusters_in_seconds(name):
    process, network = make_process(name), tiny_unetv0(seed=1)
    denoiser = Denoiser(process, network)
    noise = torch.randn(32, 1, 32, generator=torch.Generator().manual_seed(5))
    sampler = make_sampler("ddim", process)
    before = cluster_error(sample(denoiser, noise, 20, sampler))
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    data = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    for _ in range(200):
        optimizer.zero_grad()
        process.loss(network, two_clusters(32, data)).backward()
        optimizer.step()
    after = cluster_error(sample(denoiser, noise, 20, sampler))
    assert after < 0.15 and after < 0.4 * before, f"{name}: cluster error {before:.3f} -> {after:.3f}"


def seen_times(process, batch: int) -> torch.Tensor:
    """The c_noise a process hands its network in one seeded training step on a batch of zeros."""
    seen = []
    network = lambda x, c: (seen.append(c.clone()), torch.zeros_like(x))[1]  # noqa: E731
    torch.manual_seed(0)
    process.loss(network, torch.zeros(batch, 1, 4))
    return seen[0]


def test_v_cosine_time_power_trains_more_at_low_noise(monkeypatch):
    from src.processes.v_cosine import VCosineProcess

    skewed, uniform = seen_times(VCosineProcess(time_power=3.0), 4096), seen_times(VCosineProcess(), 4096)
    assert torch.allclose(skewed, uniform ** 3)  # the same draws, raised to the power
    assert (skewed < 0.125).float().mean() > 0.45 and abs((uniform < 0.125).float().mean() - 0.125) < 0.02
    with pytest.raises(ValueError, match="time_power"):
        VCosineProcess(time_power=0)


def test_v_cosine_min_snr_weights_each_clip_by_its_clipped_snr():
    from src.processes.v_cosine import VCosineProcess

    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731
    x0 = torch.zeros(512, 1, 8)
    torch.manual_seed(0)
    weighted = VCosineProcess(min_snr_gamma=5.0).loss(zero, x0)
    torch.manual_seed(0)
    t, noise = torch.rand(512), torch.randn_like(x0)  # the process's own draws, in its order
    alpha, sigma = torch.cos(t * math.pi / 2), torch.sin(t * math.pi / 2)
    snr = alpha.square() / sigma.square()
    per_clip = (alpha[:, None, None] * noise).square().mean(dim=(1, 2))  # v's error for a zero network
    expected = (torch.minimum(snr, torch.tensor(5.0)) / (snr + 1) * per_clip).mean()
    assert torch.allclose(weighted, expected, rtol=1e-4)
    process = VCosineProcess(min_snr_gamma=5.0)
    ends = process.snr_weight(*process.alpha_sigma(torch.tensor([0.0, 1.0])))
    assert ends.tolist() == pytest.approx([0.0, 0.0], abs=1e-6)  # finite, and off at both ends
    with pytest.raises(ValueError, match="min_snr_gamma"):
        VCosineProcess(min_snr_gamma=0)


def test_v_cosine_cosine_spacing_puts_more_steps_near_both_ends():
    from src.processes.v_cosine import VCosineProcess

    even = VCosineProcess().schedule(10)
    assert torch.allclose(even, torch.linspace(1.0, 0.0, 11))  # ADP's VSampler, unchanged by default
    for spacing in (0.75, 1.0):
        times = VCosineProcess(cosine_spacing=spacing).schedule(10)
        assert times[0] == 1.0 and times[-1] == 0.0 and bool((times[1:] < times[:-1]).all())
        gaps = times[:-1] - times[1:]
        assert gaps[0] < 0.5 * 0.1 and gaps[-1] < 0.5 * 0.1 and gaps[5] > 0.1  # short at the ends, long in between
    cosine = VCosineProcess(cosine_spacing=1.0).schedule(4)
    assert torch.allclose(cosine, torch.tensor([1.0, 0.5 + 0.5 ** 1.5, 0.5, 0.5 - 0.5 ** 1.5, 0.0]), atol=1e-6)
    with pytest.raises(ValueError, match="cosine_spacing"):
        VCosineProcess(cosine_spacing=1.5)


def test_v_cosine_min_noise_ratio_ends_the_spacing_near_clean_at_any_step_count():
    from src.processes.v_cosine import VCosineProcess

    for steps in (1, 2, 10, 50):
        process = VCosineProcess(cosine_spacing=1.0, min_noise_ratio=0.002)
        times = process.schedule(steps)
        assert len(times) == steps + 1 and times[0] == 1.0 and times[-1] == 0.0
        assert bool((times[1:] < times[:-1]).all())
        if steps > 1:  # the last noisy time sits where sigma / alpha = 0.002, whatever the step count
            alpha, sigma = process.alpha_sigma(times[-2])
            assert float(sigma / alpha) == pytest.approx(0.002, rel=1e-4)
    spaced_to_zero = VCosineProcess(cosine_spacing=1.0).schedule(10)
    assert float(spaced_to_zero[-2]) > 10 * float(VCosineProcess(cosine_spacing=1.0, min_noise_ratio=0.002).schedule(10)[-2])
    with pytest.raises(ValueError, match="min_noise_ratio"):
        VCosineProcess(min_noise_ratio=0.0)


def test_v_cosine_log_snr_input_hands_the_network_the_scaled_log_noise_ratio_in_training_and_sampling():
    from src.processes.v_cosine import VCosineProcess

    process = VCosineProcess(log_snr_input=8.0)
    c_noise = seen_times(process, 256)
    torch.manual_seed(0)
    t = torch.rand(256)  # the process's own draw
    assert torch.allclose(c_noise, (torch.tan(t * math.pi / 2).log() / 8.0).clamp(-1, 1), atol=1e-5)
    seen = []
    network = lambda x, c: (seen.append(c.clone()), torch.zeros_like(x))[1]  # noqa: E731
    process.denoise(network, torch.zeros(3, 1, 8), torch.tensor(0.99))
    assert seen[-1].tolist() == pytest.approx([math.log(math.tan(0.99 * math.pi / 2)) / 8.0] * 3, rel=1e-5)
    ends = process.network_time(torch.tensor([0.0, 0.5, 1.0]))  # both ends clipped, the middle at 0
    assert ends.tolist() == pytest.approx([-1.0, 0.0, 1.0], abs=1e-6)
    # the noisiest twentieth of the path spans a third of the network's range, not a twentieth
    top = process.network_time(torch.tensor([0.95, 0.999]))
    assert float(top[1] - top[0]) > 0.45
    assert VCosineProcess().network_time(torch.tensor([0.3])).tolist() == pytest.approx([0.3])  # ADP's t by default
    with pytest.raises(ValueError, match="log_snr_input"):
        VCosineProcess(log_snr_input=0.0)


def test_v_cosine_high_noise_share_redraws_that_share_of_training_times_near_t_1():
    from src.processes.v_cosine import HIGH_NOISE_RATIOS, VCosineProcess

    shifted, uniform = seen_times(VCosineProcess(high_noise_share=0.25), 20000), seen_times(VCosineProcess(), 20000)
    redrawn = shifted != uniform
    assert abs(float(redrawn.float().mean()) - 0.25) < 0.02  # the rest keep the uniform draw
    ratio = torch.tan(shifted[redrawn].double() * math.pi / 2)
    assert float(ratio.min()) >= HIGH_NOISE_RATIOS[0] * 0.999 and float(ratio.max()) <= HIGH_NOISE_RATIOS[1] * 1.001
    assert abs(float((ratio.log() < math.log(math.sqrt(10.0 * 3000.0))).double().mean()) - 0.5) < 0.03  # even in log ratio
    assert float((shifted > 0.99).float().mean()) > 10 * float((uniform > 0.99).float().mean())
    with pytest.raises(ValueError, match="high_noise_share"):
        VCosineProcess(high_noise_share=1.0)


def test_v_cosine_lead_weight_scales_the_leading_channels_error_above_its_time_only():
    from src.processes.v_cosine import VCosineProcess

    torch.manual_seed(0)
    x0 = torch.randn(64, 3, 16)
    x0[:, :1] *= 6.0  # a loud leading channel, as a waveform's low path at gain 6
    zero = lambda x, c: torch.zeros_like(x)  # noqa: E731

    def loss(process):
        torch.manual_seed(1)
        return float(process.loss(zero, x0))
    plain, weighted = loss(VCosineProcess()), loss(VCosineProcess(lead_channels=1, lead_weight=1 / 36))
    torch.manual_seed(1)
    t = torch.rand(64)  # the process's own draw, then its noise
    noise = torch.randn_like(x0)
    alpha, sigma = (per_item(s, x0) for s in VCosineProcess().alpha_sigma(t))
    squares = (alpha * noise - sigma * x0).square()
    assert plain == pytest.approx(float(squares.mean()), rel=1e-5)
    assert weighted == pytest.approx(float(torch.cat([squares[:, :1] / 36, squares[:, 1:]], 1).mean()), rel=1e-5)
    above = VCosineProcess(lead_channels=1, lead_weight=1 / 36, lead_weight_above=0.9)
    late = (t > 0.9)[:, None, None] & (torch.arange(3) < 1)[None, :, None]
    assert loss(above) == pytest.approx(float(torch.where(late, squares / 36, squares).mean()), rel=1e-5)
    assert loss(VCosineProcess(lead_channels=1)) == pytest.approx(plain)  # weight 1: plain MSE
    for bad in ({"lead_weight": 0.0}, {"lead_channels": -1}, {"lead_weight_above": 1.0}):
        with pytest.raises(ValueError, match="lead_"):
            VCosineProcess(**bad)


def test_spectral_weighting_favours_the_bins_a_clip_leaves_quiet():
    from src.processes.v_cosine import VCosineProcess
    from src.processes.weighting import SpectralLevelWeighting, buried_share

    weights = buried_share(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([[0.01], [100.0]]))
    assert torch.allclose(weights.mean(dim=1), torch.ones(2))
    assert weights[0, 1] > 50 * weights[0, 0] and weights[1, 1] < 1.02 * weights[1, 0]

    # clean clips: a low tone and nothing above it
    n = torch.arange(4096)
    clips = torch.sin(2 * math.pi * n / 64.0).expand(16, 1, 4096).contiguous()
    low = torch.sin(2 * math.pi * n / 60.0)  # an error next to the tone, where it is loud
    high = torch.sin(2 * math.pi * n / 3.0)  # the same error in a band the clips leave empty

    def oracle_plus(error):
        def network(x_t, t):  # the exact v for these clean clips, plus `error`
            alpha, sigma = (s.view(-1, 1, 1) for s in VCosineProcess().alpha_sigma(t))
            noise = (x_t - alpha * clips) / sigma
            return alpha * noise - sigma * clips + error
        return network

    def cost(process, error):
        torch.manual_seed(0)
        return process.loss(oracle_plus(error), clips).item()

    plain, weighted = VCosineProcess(), VCosineProcess(weighting=SpectralLevelWeighting(256))
    assert abs(cost(plain, high) / cost(plain, low) - 1) < 0.05  # plain MSE: both errors cost alike
    assert cost(weighted, high) / cost(weighted, low) > 3  # weighted: the one in the empty band costs more
    half = VCosineProcess(weighting=SpectralLevelWeighting(256, plain_share=0.5))
    assert 1.2 < cost(half, high) / cost(half, low) < cost(weighted, high) / cost(weighted, low)
    with pytest.raises(ValueError, match="plain_share"):
        SpectralLevelWeighting(256, plain_share=1.0)
    with pytest.raises(ValueError, match="n_fft"):
        SpectralLevelWeighting(6)
    with pytest.raises(ValueError, match="waveform"):
        weighted.loss(lambda x, t: torch.zeros_like(x), torch.zeros(2, 1, 8, 8))
