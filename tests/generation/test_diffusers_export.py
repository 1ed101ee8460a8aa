"""A tiny mel model exported as a diffusers AudioDiffusionPipeline loads offline and generates."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler, DiffusionPipeline
from diffusers.pipelines.deprecated.audio_diffusion import AudioDiffusionPipeline
from omegaconf import OmegaConf, open_dict

from src.networks.unet2d import UNet2DNetwork
from src.processes.ddpm import DDPMProcess
from src.generation.diffusers_export import export_audio_diffusion_pipeline, main
from src.checkpoints.files import CONFIG_KEY
from tests.conftest import compose_config


def tiny_config(tmp_path, exp: str = "mel_diffusion_demo", debug: str = "tiny"):
    """The mel demo on the ddpm process: the one a diffusers pipeline runs."""
    process = ["model/process=ddpm_v"] if exp.startswith("mel") else []
    return compose_config([f"exp={exp}", f"debug={debug}", f"paths.output_dir={tmp_path / 'run'}", *process])


@pytest.fixture(scope="module")
def tiny_mel(tmp_path_factory):
    cfg = tiny_config(tmp_path_factory.mktemp("cfg"))
    torch.manual_seed(0)
    return hydra.utils.instantiate(cfg.model).eval(), cfg


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def drum_clip(length: int, rate: int) -> torch.Tensor:
    t = torch.arange(length) / rate
    return (0.8 * torch.sin(2 * torch.pi * 120 * t) * torch.exp(-t * 12)).reshape(1, 1, -1)


def test_export_loads_offline_and_generates(tiny_mel, tmp_path):
    model, _ = tiny_mel
    folder = export_audio_diffusion_pipeline(model, tmp_path / "pipe")
    assert {p.name for p in folder.iterdir()} >= {"model_index.json", "unet", "scheduler", "mel"}
    pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True)
    assert isinstance(pipe, AudioDiffusionPipeline) and pipe.vqvae is None
    assert isinstance(pipe.scheduler, DDIMScheduler)  # the model's sampler
    rep = model.representation
    assert (pipe.mel.x_res, pipe.mel.y_res, pipe.mel.hop_length, pipe.mel.get_sample_rate()) == (
        rep.x_res, rep.y_res, rep.hop_length, rep.sample_rate)
    for name, tensor in model.network.unet.state_dict().items():
        assert torch.equal(tensor, pipe.unet.state_dict()[name]), name  # the (EMA) weights, unchanged
    out = pipe(batch_size=2, steps=3, generator=torch.Generator().manual_seed(0))
    # librosa's inverse STFT gives (x_res - 1) * hop_length samples per image.
    assert out.audios.shape == (2, 1, (rep.x_res - 1) * rep.hop_length)
    assert np.isfinite(out.audios).all() and out.images[0].size == (rep.x_res, rep.y_res)


def test_pipeline_denoises_like_the_backend(tiny_mel, tmp_path):
    """Same noise, same DDIM steps: the pipeline's images are the model's samples in 8 bits."""
    model, _ = tiny_mel
    pipe = AudioDiffusionPipeline.from_pretrained(export_audio_diffusion_pipeline(model, tmp_path / "pipe"))
    noise = torch.randn(1, *model.representation.tensor_shape(), generator=torch.Generator().manual_seed(1))
    image = np.asarray(pipe(noise=noise.clone(), steps=3).images[0], dtype=np.float32)
    ours = model.sample_tensors(noise, 3, sampler="ddim")[0, 0]
    ours = ((ours / 2 + 0.5).clamp(0, 1) * 255).numpy()
    assert np.abs(image - ours).max() <= 1.0


def test_pipeline_mel_encodes_like_the_representation(tiny_mel, tmp_path):
    model, _ = tiny_mel
    rep = model.representation
    pipe = AudioDiffusionPipeline.from_pretrained(export_audio_diffusion_pipeline(model, tmp_path / "pipe"))
    clip = drum_clip(rep.length, rep.sample_rate)
    pipe.mel.load_audio(raw_audio=clip[0, 0].numpy())
    theirs = np.asarray(pipe.mel.audio_slice_to_image(0), dtype=np.float32) / 255 * 2 - 1
    ours = rep.encode(clip)[0, 0].numpy()
    assert theirs.shape == ours.shape
    assert np.abs(theirs - ours).mean() < 0.01  # float32 vs float64 may flip a few 8-bit levels


def test_sampler_choice_and_overwrite(tiny_mel, tmp_path):
    model, _ = tiny_mel
    folder = export_audio_diffusion_pipeline(model, tmp_path / "pipe", sampler="ddpm")
    assert isinstance(AudioDiffusionPipeline.from_pretrained(folder).scheduler, DDPMScheduler)
    with pytest.raises(FileExistsError, match="overwrite"):
        export_audio_diffusion_pipeline(model, folder)
    export_audio_diffusion_pipeline(model, folder, overwrite=True)
    assert isinstance(AudioDiffusionPipeline.from_pretrained(folder).scheduler, DDIMScheduler)


def write_checkpoint(model, cfg, path):
    config = OmegaConf.to_container(cfg, resolve=True)
    torch.save({"state_dict": model.state_dict(), CONFIG_KEY: config}, path)
    return path


def test_cli_exports_a_checkpoint(tiny_mel, tmp_path):
    model, cfg = tiny_mel
    ckpt = write_checkpoint(model, cfg, tmp_path / "last.ckpt")
    main([f"ckpt={ckpt}", f"out_dir={tmp_path / 'pipe'}"])
    pipe = AudioDiffusionPipeline.from_pretrained(tmp_path / "pipe")
    assert torch.equal(pipe.unet.conv_in.weight, model.network.unet.conv_in.weight)


def test_non_mel_models_are_refused(tmp_path):
    cfg = tiny_config(tmp_path, "drum_diffusion_demo", "tiny")
    model = hydra.utils.instantiate(cfg.model)
    ckpt = write_checkpoint(model, cfg, tmp_path / "wave.ckpt")
    with pytest.raises(ValueError, match="wave.ckpt: only UNet2DModel networks"):
        main([f"ckpt={ckpt}", f"out_dir={tmp_path / 'pipe'}"])
    assert not (tmp_path / "pipe").exists()
    with pytest.raises(ValueError, match="missing required argument"):
        main([f"ckpt={ckpt}"])


def test_exported_pipeline_is_a_pretrained_starting_point(tiny_mel, tmp_path):
    model, _ = tiny_mel
    folder = export_audio_diffusion_pipeline(model, tmp_path / "pipe")
    network = UNet2DNetwork(None, pretrained=str(folder))
    process = DDPMProcess(num_train_timesteps=7, pretrained=str(folder))
    assert isinstance(process.scheduler, DDPMScheduler)
    assert process.scheduler.config.num_train_timesteps == model.process.scheduler.config.num_train_timesteps
    for name, tensor in model.network.unet.state_dict().items():
        assert torch.equal(tensor, network.unet.state_dict()[name]), name


def test_channels_last_models_export_contiguous_weights(tmp_path):
    cfg = compose_config(["exp=mel_diffusion_demo", "debug=tiny", "model/process=ddpm_v", f"paths.output_dir={tmp_path}",
                          "model.network.channels_last=true"])
    model = hydra.utils.instantiate(cfg.model)
    pipe = AudioDiffusionPipeline.from_pretrained(export_audio_diffusion_pipeline(model, tmp_path / "pipe"))
    conv = model.network.unet.down_blocks[0].resnets[0].conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)  # the model keeps its layout
    assert torch.equal(pipe.unet.down_blocks[0].resnets[0].conv1.weight, conv)


def readme_snippet() -> str:
    """The README's lines that sample an exported class-conditional model."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    after = readme.split("<!-- conditional-export-snippet -->", 1)[1]
    return after.split("```python", 1)[1].split("```", 1)[0]


def test_a_conditional_model_exports_its_components_and_the_readme_lines_sample_them(tmp_path):
    cfg = tiny_config(tmp_path)
    with open_dict(cfg):
        cfg.model.labels, cfg.model.network.num_classes, cfg.model.cfg_scale = ["kick", "snare"], 2, 2.5
    torch.manual_seed(0)
    model = hydra.utils.instantiate(cfg.model).eval()
    folder = export_audio_diffusion_pipeline(model, tmp_path / "exports" / "my_mel")
    assert not (folder / "model_index.json").exists()  # AudioDiffusionPipeline cannot pass class labels
    assert json.loads((folder / "labels.json").read_text()) == {"labels": ["kick", "snare"], "null_label": 2,
                                                               "cfg_scale": 2.5}
    code = readme_snippet().replace('Path("exports/my_mel")', f"Path({str(folder)!r})")
    code = code.replace("set_timesteps(50)", "set_timesteps(3)")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    unet = namespace["unet"]
    assert unet.config.num_class_embeds == 3
    assert torch.equal(unet.class_embedding.weight, model.network.unet.class_embedding.weight)
    rep = model.representation
    assert len(namespace["audio"]) == 2
    assert all(clip.shape == ((rep.x_res - 1) * rep.hop_length,) and np.isfinite(clip).all()
               for clip in namespace["audio"])
