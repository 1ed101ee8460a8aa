"""generate.py's arguments, errors, manifest and reproducibility, on a tiny untrained checkpoint."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
import torch

from generate import main
from src.checkpoints.files import CheckpointError
from src.generation.sample import GenerateArgs, generate
from tests.conftest import untrained_checkpoint, write_tone


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return untrained_checkpoint(tmp_path_factory.mktemp("ckpt"), ["exp=drum_diffusion_demo", "debug=tiny"])


def run(ckpt, out, **extra) -> dict:
    generate(GenerateArgs(ckpt=str(ckpt), steps=3, out_dir=str(out), **extra))
    return json.loads((out / "manifest.json").read_text())


def test_same_seed_same_audio_any_batch_size(ckpt, tmp_path):
    run(ckpt, tmp_path / "a", num_samples=3, batch_size=3, seed=7)
    run(ckpt, tmp_path / "b", num_samples=3, batch_size=1, seed=7)
    run(ckpt, tmp_path / "c", num_samples=3, batch_size=3, seed=8)
    a, b, c = (sf.read(tmp_path / d / "sample_002.wav")[0] for d in "abc")
    assert abs(a - b).max() <= 2 / 32768 and abs(a - c).max() > 0.01


def test_eps_scaling_overrides_the_checkpoint_and_is_recorded(ckpt, tmp_path):
    off = run(ckpt, tmp_path / "off", num_samples=1, seed=7, eps_scaling=0.0)
    on = run(ckpt, tmp_path / "on", num_samples=1, seed=7, eps_scaling=1.0)
    assert off["sampling"]["eps_scaling"] == 0.0 and on["sampling"]["eps_scaling"] == 1.0
    a, b = (sf.read(tmp_path / d / "sample_000.wav")[0] for d in ("off", "on"))
    assert abs(a - b).max() > 1e-3
    with pytest.raises(ValueError, match="eps_scaling"):
        run(ckpt, tmp_path / "bad", num_samples=1, eps_scaling=-1.0)


def test_modes_write_wav_png_and_manifest_with_inputs(ckpt, tmp_path):
    source = write_tone(tmp_path / "in.flac", rate=22050, seconds=0.3, channels=2)
    manifest = run(ckpt, tmp_path / "v", mode="variation", init_audio=str(source), strength=0.4, num_samples=2)
    assert manifest["mode"] == "variation" and manifest["inputs"] == [str(source.resolve())]
    assert manifest["parameters"]["strength"] == 0.4
    assert (tmp_path / "v" / "sample_001.png").exists()
    manifest = run(ckpt, tmp_path / "c", mode="continue", init_audio=str(source), segments=2, overlap=0.03,
                   crossfade=0.01, num_samples=1)
    frames = sf.info(tmp_path / "c" / "sample_000.wav").frames
    assert frames == round(0.3 * 8000) + 2 * (1024 - 240)


def test_too_short_input_is_padded(ckpt, tmp_path):
    source = write_tone(tmp_path / "short.wav", rate=8000, seconds=0.01)
    run(ckpt, tmp_path / "p", mode="inpaint", init_audio=str(source), mask_start_secs=0.005, num_samples=1)
    assert sf.info(tmp_path / "p" / "sample_000.wav").frames == 1024


def test_cli_errors_are_clear(ckpt, tmp_path):
    with pytest.raises(ValueError, match="stepz"):
        main([f"ckpt={ckpt}", "stepz=3"])
    with pytest.raises(ValueError, match="ckpt"):
        main([])
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        main([f"ckpt={tmp_path / 'missing.ckpt'}"])
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.ckpt"):
        main([f"ckpt={junk}"])
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a checkpoint of this framework"):
        main([f"ckpt={foreign}"])
    with pytest.raises(ValueError, match="mode=dance"):
        main([f"ckpt={ckpt}", "mode=dance", f"out_dir={tmp_path / 'x'}"])
    with pytest.raises(ValueError, match="init_audio"):
        main([f"ckpt={ckpt}", "mode=variation", f"out_dir={tmp_path / 'x'}"])
    with pytest.raises(ValueError, match="sampler=ddpm cannot serve the v_cosine process; it can use: ddim, euler"):
        main([f"ckpt={ckpt}", "sampler=ddpm", f"out_dir={tmp_path / 'x'}"])
    with pytest.raises(ValueError, match="cannot serve mode=interpolate with the v_cosine process; it can use: ddim, euler$"):
        main([f"ckpt={ckpt}", "mode=interpolate", "eta=0.5", f"out_dir={tmp_path / 'x'}"])


def test_keep_loop_and_interpolate_through_the_command_line(ckpt, tmp_path):
    """The spellings users type: keep= spans in seconds, loop=true and mode=interpolate."""
    source = write_tone(tmp_path / "a.wav", rate=8000, seconds=0.128, freq=300.0)
    other = write_tone(tmp_path / "b.wav", rate=8000, seconds=0.128, freq=900.0)
    out = tmp_path / "keep"
    main([f"ckpt={ckpt}", "mode=inpaint", f"init_audio={source}", "keep=[[0.0,0.05]]", "num_samples=1",
          "steps=3", f"out_dir={out}"])
    kept, rate = sf.read(out / "sample_000.wav")
    original, _ = sf.read(source)
    assert rate == 8000 and len(kept) == 1024
    # the kept 0.05 s survive up to two 32-sample MDCT hops before the gap, where they blend into it
    assert abs(kept[:336] - original[:336]).max() < 2e-3
    assert abs(kept[500:] - original[500:]).max() > 0.05  # the rest was regenerated
    assert json.loads((out / "manifest.json").read_text())["parameters"]["keep"] == [[0.0, 0.05]]

    out = tmp_path / "loop"
    main([f"ckpt={ckpt}", "loop=true", "num_samples=2", "steps=3", f"out_dir={out}"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["loop"] is True and manifest["files"] == ["sample_000.wav", "sample_001.wav"]
    assert sf.info(out / "sample_001.wav").frames == 1024

    out = tmp_path / "between"
    main([f"ckpt={ckpt}", "mode=interpolate", f"init_audio={source}", f"init_audio2={other}", "num_samples=3",
          "steps=3", f"out_dir={out}"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "interpolate" and manifest["inputs"] == [str(source.resolve()), str(other.resolve())]
    clips = [sf.read(out / name)[0] for name in manifest["files"]]
    assert len(clips) == 3 and abs(clips[0] - clips[2]).max() > 0.01  # the ends differ, as their inputs do
