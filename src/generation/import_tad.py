"""Import a tiny-audio-diffusion model as `saved_models/<name>/` (this framework's export format).

    python -m src.generation.import_tad ckpt=<tad .ckpt> config=<its exp .yaml> name=<name> [weights=ema|online]

The network is our UNetV0Network with the yaml's UNetV0 settings, on raw samples (scale 1, no
position features) under v_cosine, the v-diffusion it was trained with; the recipe is exp=drum_diffusion
at the yaml's rate, channels and length. The weights are the EMA ones (`model_ema.ema_model.*`) unless
`weights=online`. The export then works wherever a checkpoint does: generate.py, every mode, the studio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import MISSING, OmegaConf, open_dict

from src.checkpoints.files import CheckpointError
from src.checkpoints.tad import read_tad_settings, read_tad_weights
from src.generation.export import DEFAULT_ROOT, write_export
from src.utils.cli import parse_cli, run_cli
from src.utils.resolvers import register_resolvers

log = logging.getLogger(__name__)
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@dataclass
class ImportArgs:
    ckpt: str = MISSING       # tiny-audio-diffusion's .ckpt
    config: str = MISSING     # the exp .yaml it was trained with (read as data)
    name: str = MISSING       # folder name under out_root
    weights: str = "ema"      # ema (model_ema.ema_model.*) | online (model.*)
    out_root: str = str(DEFAULT_ROOT)
    overwrite: bool = False   # replace an existing export of the same name


def recipe_config(settings: dict) -> dict:
    """exp=drum_diffusion at the imported model's audio and UNetV0 settings, resolved to plain data."""
    network = settings["network"]
    overrides = [
        "exp=drum_diffusion", "model/process=v_cosine", "datamodule.dataset.labels=none",
        f"audio.sample_rate={settings['sample_rate']}", f"audio.channels={settings['channels']}",
        f"audio.length={settings['length']}", "model.representation.scale=1.0", "model.network.position_features=0",
        *(f"model.network.{key}={list(value) if isinstance(value, list) else value}" for key, value in network.items()),
    ]
    if settings["loudness"] is not None:
        overrides.append(f"datamodule.dataset.normalize_lufs={settings['loudness']}")
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = "imported"
        cfg.task_name = "imported_tiny_audio_diffusion"
        # an import trains nothing: resolving the loggers would give it a W&B run id, written as a file
        cfg.logger = None
    return OmegaConf.to_container(cfg, resolve=True)


def import_tad(ckpt: str | Path, config: str | Path, out_dir: str | Path, weights: str = "ema",
               overwrite: bool = False) -> Path:
    settings = read_tad_settings(config)
    if settings["in_channels"] != settings["channels"]:
        raise CheckpointError(f"config={config}: in_channels={settings['in_channels']} but channels="
                              f"{settings['channels']}; tiny-audio-diffusion trains them equal")
    state, facts = read_tad_weights(ckpt, weights)
    run_config = recipe_config(settings)
    model = hydra.utils.instantiate(run_config["model"])
    try:
        model.network.net.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(f"ckpt={ckpt}: its weights do not fit the UNetV0 that config={config} describes ({err})") from err
    log.info("imported %s weights of %s (step %s, Lightning %s)", weights, ckpt, facts["global_step"], facts["lightning"])
    return write_export(out_dir, model.state_dict(), run_config, facts["global_step"], facts["epoch"],
                        str(Path(ckpt).resolve()), overwrite)


def main(argv: list[str]) -> None:
    args = parse_cli(ImportArgs, argv)
    out_dir = import_tad(args.ckpt, args.config, Path(args.out_root) / args.name, args.weights, args.overwrite)
    log.info("wrote %s: python generate.py ckpt=%s", out_dir, out_dir)


if __name__ == "__main__":
    run_cli(main)
