"""A logger whose construction fails, as W&B's does with a broken install or a bad setting."""


class BrokenLogger:
    def __init__(self, project: str) -> None:
        raise RuntimeError(f"cannot reach the dashboard for {project}")
