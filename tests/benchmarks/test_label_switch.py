"""benchmarks/label_switch.py: the label switch itself, and the script on a tiny untrained waveform checkpoint."""

from __future__ import annotations

import math

import torch

from tests.benchmarks.scripts import run_script, table_rows, waveform_checkpoint
from tests.conftest import ROOT


class RecordingNetwork(torch.nn.Module):
    """Returns its input and records the labels of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, list[int] | None]] = []

    def forward(self, x, c_noise, labels=None):
        self.calls.append((float(c_noise.flatten()[0]), None if labels is None else labels.tolist()))
        return x


def test_the_early_label_holds_above_the_switch_time_and_the_late_one_at_and_below_it(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the script imports its neighbours
    from label_switch import SwitchedLabels

    network = RecordingNetwork()
    switched = SwitchedLabels(network, early=1, late=None, switch=0.5)
    x = torch.zeros(2, 1, 4)
    for t in (0.9, 0.5, 0.1):
        switched(x, torch.full((2,), t))
    assert [labels for _, labels in network.calls] == [[1, 1], None, None]  # at 0.9, 0.5 (the switch) and 0.1


def test_the_switch_follows_a_process_that_hands_the_network_the_log_noise_ratio(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from label_switch import SwitchedLabels, switch_in_c_noise
    from src.processes.v_cosine import VCosineProcess

    process = VCosineProcess(log_snr_input=8.0)
    network = RecordingNetwork()
    switched = SwitchedLabels(network, early=1, late=None, switch=switch_in_c_noise(process, 0.99))
    for t in (0.995, 0.99, 0.5):
        process.denoise(switched, torch.zeros(2, 1, 4), torch.tensor(t))
    assert [labels for _, labels in network.calls] == [[1, 1], None, None]  # above, at and below t = 0.99
    assert switch_in_c_noise(VCosineProcess(), 0.99) == 0.99  # a process that hands the network t


def test_a_switch_below_every_time_samples_the_label_alone(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from label_switch import switched_clips
    from src.generation.checkpoint import load_model

    model, _ = load_model(waveform_checkpoint(tmp_path))
    model.eval()
    kick = model.labels.index("kick")
    noise = model.noise(2, torch.Generator().manual_seed(3))
    labelled = model.decode_audio(model.sample_tensors(noise, steps=3, labels=torch.full((2,), kick), cfg_scale=1.0))
    assert torch.allclose(switched_clips(model, kick, None, -1.0, 2, 3, seed=3), labelled, atol=1e-6)
    unconditional = model.decode_audio(model.sample_tensors(noise, steps=3))
    assert torch.allclose(switched_clips(model, kick, None, 2.0, 2, 3, seed=3), unconditional, atol=1e-6)
    assert not torch.allclose(labelled, unconditional, atol=1e-4)  # so the two checks above tell the sides apart


def test_labels_in_turn_give_each_clip_its_own_label_above_the_switch(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from label_switch import switched_clips
    from src.generation.checkpoint import load_model

    model, _ = load_model(waveform_checkpoint(tmp_path))
    model.eval()
    ids = torch.arange(3) % len(model.labels)
    noise = model.noise(3, torch.Generator().manual_seed(3))
    labelled = model.decode_audio(model.sample_tensors(noise, steps=3, labels=ids, cfg_scale=1.0))
    assert torch.allclose(switched_clips(model, ids, None, -1.0, 3, 3, seed=3, batch=2), labelled, atol=1e-6)


def test_the_script_counts_classes_for_each_switch_and_refuses_unknown_labels(tmp_path):
    ckpt = waveform_checkpoint(tmp_path)
    result = run_script("label_switch.py", ckpt, "samples=6", "steps=2", "times=[0.9]")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = table_rows(result.stdout, "drum_diffusion_demo: 6 clips per row")
    assert [row[:2] for row in rows] == [["kick above t, then no label", "0.9"], ["no label above t, then kick", "0.9"]]
    for row in rows:
        counts = [int(part.split()[-1]) for part in row[2].split(", ")]
        assert sum(counts) == 6 and math.isfinite(float(row[3]))

    drawn = run_script("label_switch.py", ckpt, "label=any", "samples=6", "steps=2", "times=[0]")
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert table_rows(drawn.stdout, "drum_diffusion_demo: 6 clips per row")[0][:2] == ["any above t, then no label", "0"]

    unknown = run_script("label_switch.py", ckpt, "label=cowbell", "samples=6", "steps=2", "times=[0.9]")
    assert unknown.returncode != 0 and "unknown label 'cowbell'" in unknown.stderr and "kick" in unknown.stderr
