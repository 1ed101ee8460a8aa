"""Generation modes beyond unconditional sampling, written once against Representation + DiffusionBackend."""
