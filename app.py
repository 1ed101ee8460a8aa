"""The studio: a local web page to generate, audition and download clips from any checkpoint.

    python app.py [ckpt=<.ckpt | saved_models/NAME>] [port=7860] [host=127.0.0.1] [share=false]

It lists every checkpoint under logs/ and every export under saved_models/, and runs generate.py's
own code. It binds to 127.0.0.1 and never fetches anything from the internet; `share=true` (a
public Gradio link) is the only way it is reachable from elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Before gradio is imported: no usage reports leave this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from src.studio.batch import MAX_UPLOAD_MB, Studio  # noqa: E402
from src.studio.page import Page, theme  # noqa: E402
from src.utils.cli import parse_cli, run_cli  # noqa: E402


@dataclass
class StudioArgs:
    ckpt: str | None = None            # model selected at start (any checkpoint or export; the list has the rest)
    port: int = 7860                   # local port
    host: str = "127.0.0.1"            # 0.0.0.0 opens it to the network: only on a network you trust
    share: bool = False                # true: a public gradio.live link (the only thing that leaves this machine)
    logs: str = "logs"                 # where training checkpoints are listed from
    saved_models: str = "saved_models" # where exports are listed from
    work_dir: str = "outputs/studio"   # where each batch's clips, manifest and zip are written


def main(argv: list[str]) -> None:
    args = parse_cli(StudioArgs, argv)
    work_dir = Path(args.work_dir).resolve()
    page = Page(Studio(work_dir), [Path(args.logs), Path(args.saved_models)], args.ckpt).build()
    page.queue(default_concurrency_limit=1)
    page.launch(server_name=args.host, server_port=args.port, share=args.share, theme=theme(),
                max_file_size=f"{MAX_UPLOAD_MB}mb", allowed_paths=[str(work_dir)], footer_links=[])


if __name__ == "__main__":
    run_cli(main)
