"""The null label read off the noisy input.

A class-conditional network learns one embedding per class plus one for the null label, and the
null label's single vector must serve every class at once: the network then has to infer from
the noisy input alone, in every block, what kind of sound it is finishing. `NullFromInput` is a
small noise-conditional classifier that reads each input channel's overall level and the noise
level; the null label's vector becomes the average of the class vectors weighted by its posterior.
It learns by cross-entropy on every training item's true class, at the noisy input the process
made (`WithLabels(classes=...)`, `class_loss`), never through the diffusion loss: where the input
shows its class the null label then steers every block as that class's label does, and where it
cannot tell, it mixes the classes."""

from __future__ import annotations

import torch
from torch import nn

from src.networks.base import local_power, log_level


class NullFromInput(nn.Module):
    """Class posteriors (batch, classes) for a batch of noisy inputs. The head starts at zero, so
    before training every item gets the class vectors' plain average."""

    def __init__(self, channels: int, classes: int, hidden: int = 128, window: int = 5) -> None:
        super().__init__()
        if channels < 1 or classes < 1 or hidden < 1:
            raise ValueError(f"NullFromInput needs positive channels, classes and hidden, got {channels}, {classes}, {hidden}")
        self.window = window
        self.head = nn.Sequential(nn.Linear(2 * channels + 1, hidden), nn.SiLU(), nn.Linear(hidden, classes))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def summary(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        """(batch, 2 * channels + 1): each channel's log mean power and log peak local power over
        the clip, and the noise level (one per item, or one for the batch)."""
        power = local_power(x.float(), self.window).flatten(2)
        noise_level = c_noise.float().expand(x.shape[0]).reshape(-1, 1)
        return torch.cat([log_level(power.mean(dim=-1)), log_level(power.amax(dim=-1)), noise_level], dim=1)

    def logits(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.head(self.summary(x, c_noise))

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.logits(x, c_noise).softmax(dim=-1)


def null_from_input(embedding: nn.Embedding, head: NullFromInput, ids: torch.Tensor, x: torch.Tensor,
                    c_noise: torch.Tensor) -> torch.Tensor:
    """The class features of `ids` (class ids; the last id is the null label), with each null
    item's vector replaced by the class vectors weighted by the head's posterior for its input
    (detached: the diffusion loss does not train the classifier). Mixing weights (interpolation)
    are passed through unchanged."""
    features = embedding(ids)
    if ids.is_floating_point():
        return features
    null = ids == embedding.num_embeddings - 1
    if not bool(null.any()):
        return features
    classes = embedding.weight[:-1]
    mixed = head(x, c_noise).detach().to(classes.dtype) @ classes
    return torch.where(null[:, None], mixed, features)
