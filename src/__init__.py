"""Config-driven training of audio diffusion models on PyTorch Lightning + Hydra."""
