"""benchmarks/mel_ceiling.py on small held-out kits: a row per window size, the class ceilings per kit
seed, the latent family's mel, and the one-line error for an experiment without a mel."""

from __future__ import annotations

import subprocess
import sys

from tests.benchmarks.scripts import table_rows
from tests.latent_helpers import LENGTH, MEL, save_vae_checkpoint, tiny_vae_module
from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "benchmarks/mel_ceiling.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_each_window_size_gets_its_overall_and_per_class_ceiling():
    result = run("exp=mel_diffusion_demo", "n_ffts=[1024,256]", "per_kind=4", "kit_seeds=[5,6]")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "64 mels, n_fft 512, hop 128, 32 Griffin-Lim iterations" in result.stdout  # the demo's own settings
    rows = table_rows(result.stdout, "exp=mel_diffusion_demo")
    assert [row[:2] for row in rows] == [["1024", "64"], ["256", "16"]]
    for row in rows:
        assert float(row[2]) > 0
        per_class = [[float(v) for v in cell.split(" / ")] for cell in row[3:]]
        assert len(per_class) == 3 and all(len(values) == 2 and min(values) > 0 for values in per_class)
    assert rows[0][2:] != rows[1][2:]  # the window changes the round trip


def test_the_latent_familys_mel_is_read_and_a_waveform_experiment_is_refused():
    result = run("exp=latent_diffusion_demo", "per_kind=4", "kit_seeds=[5]")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "hop 256, 16 Griffin-Lim iterations" in result.stdout
    assert table_rows(result.stdout, "exp=latent_diffusion_demo")[0][0] == "768"  # its own n_fft by default
    refused = run("exp=drum_diffusion_demo")
    assert refused.returncode == 1
    assert "exp=drum_diffusion_demo has no mel representation" in refused.stderr
    both = run("exp=latent_diffusion_demo", "n_ffts=[512]", "vaes=[some.ckpt]")
    assert both.returncode == 1 and "give n_ffts (mel settings) or vaes" in both.stderr


def test_a_row_per_vae_on_the_experiments_mel_settings(tmp_path):
    vae = save_vae_checkpoint(tiny_vae_module(), tmp_path / "vae.ckpt")
    mel = [f"model.representation.mel.{key}={value}" for key, value in MEL.items() if key != "sample_rate"]
    overrides = ",".join([f"audio.sample_rate={MEL['sample_rate']}", f"audio.length={LENGTH}", *mel])
    result = run("exp=latent_diffusion_demo", f"overrides=[{overrides}]", f"vaes=[{vae}]", "per_kind=4",
                 "kit_seeds=[5]")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "16 mels, n_fft 256, hop 64, 4 Griffin-Lim iterations" in result.stdout
    rows = table_rows(result.stdout, "exp=latent_diffusion_demo")
    assert len(rows) == 1 and rows[0][0] == str(vae) and float(rows[0][1]) > 0
    levels = [float(level) for level in rows[0][-1].split(" / ")]  # hihat, kick, snare latents at 1 / std
    assert len(levels) == 3 and all(level > 0 for level in levels)
    # equal shares of hits: their mean square is the latents' mean square at unit std, at least 1
    assert sum(level ** 2 for level in levels) / 3 > 0.95
    mismatched = run("exp=latent_diffusion_demo", f"vaes=[{vae}]", "per_kind=4", "kit_seeds=[5]")
    assert mismatched.returncode == 1 and "vae.ckpt" in mismatched.stderr  # trained on other mel settings
