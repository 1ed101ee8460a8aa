"""Reading checkpoints and exports: files, old layouts, and rebuilding what a file describes through
an allowlist. Sits below models, representations and generation, which all read checkpoints."""
