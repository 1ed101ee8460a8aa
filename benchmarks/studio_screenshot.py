"""README's picture of the studio: start it on a checkpoint, generate clips in headless chromium,
and save a screenshot.

    python benchmarks/studio_screenshot.py ckpt=<.ckpt | saved_models/NAME> [out=docs/pictures/studio.png]
        [label=snare] [clips=2] [steps=25]

The batch is written under a temporary folder, so the clone stays clean."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import ROOT
from src.studio.headless import browser_missing, generate_and_wait, headless_chromium, running_studio, set_steps, wait_for_page
from src.utils.cli import parse_cli, run_cli


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "out": str(ROOT / "docs" / "pictures" / "studio.png"), "label": None,
                      "clips": 2, "steps": 25}, argv)
    missing = browser_missing()
    if missing:
        raise RuntimeError(missing)
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as work:
        arguments = [f"ckpt={Path(args.ckpt).resolve()}", f"work_dir={work}"]
        with running_studio(arguments, Path(work) / "studio.log") as url, headless_chromium(1400, 1500) as browser:
            wait_for_page(browser, url)
            set_steps(browser, args.steps)
            if args.label:
                browser.find_element(By.CSS_SELECTOR, "#label input").click()
                next(o for o in browser.find_elements(By.CSS_SELECTOR, "li.item") if o.text.strip() == args.label).click()
            generate_and_wait(browser)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(args.out)
    sys.stdout.write(f"wrote {args.out}\n")


if __name__ == "__main__":
    run_cli(main)
