"""diffusers components built from Hydra configs."""

from __future__ import annotations

from diffusers.configuration_utils import ConfigMixin
from omegaconf import DictConfig, ListConfig, OmegaConf


def plain_config(component: ConfigMixin) -> None:
    """Hydra passes lists as ListConfig; diffusers stores them in the component's config, which
    then cannot be written as JSON (save_pretrained, pipeline export). Store plain values."""
    containers = {key: OmegaConf.to_container(value) for key, value in component.config.items()
                  if isinstance(value, (DictConfig, ListConfig))}
    if containers:
        component.register_to_config(**containers)
