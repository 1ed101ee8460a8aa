"""Drive the studio in a headless browser: start `app.py` on a free local port and open Debian's
chromium through its own chromedriver (an explicit path: Selenium downloads nothing). Used by the
browser test and by the README screenshot command."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def browser_missing() -> str | None:
    """Why a headless browser cannot run here (None: it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        return "no chromium / chromedriver (apt-get install chromium chromium-driver)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_studio(arguments: list[str], log: Path, timeout: float = 60.0) -> Iterator[str]:
    """`python app.py <arguments> port=<free>` until the block ends; yields its URL. Its output goes
    to `log`, a file: a pipe nobody reads while the page runs could fill up and stall the server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as sink:
        process = subprocess.Popen([sys.executable, "app.py", *arguments, f"port={port}"], cwd=ROOT,
                                   stdout=sink, stderr=subprocess.STDOUT,
                                   env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(url, timeout=1)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        process.kill()
                        raise RuntimeError(f"the studio did not start: {Path(log).read_text()[-3000:]}")
                    time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def headless_chromium(width: int = 1400, height: int = 2000):
    """A Selenium driver of headless chromium that records every request (performance log)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def button(driver, text: str, index: int = 0):
    from selenium.webdriver.common.by import By

    return [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == text][index]


def status_text(driver) -> str:
    # one call through the DOM: the page re-renders while a batch lands
    return driver.execute_script("const e = document.getElementById('status'); return e ? e.innerText : '';")


def finished_batch(driver) -> str | None:
    """The folder of the last finished batch, from the status line ('done: 2 clips in .../batch_0001')."""
    found = re.search(r"done: \d+ clips in \S*(batch_\d+)", status_text(driver))
    return found.group(1) if found else None


def wait_for_page(driver, url: str, timeout: float = 60.0) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, timeout).until(
        lambda d: any(b.text.strip() == "Generate" for b in d.find_elements(By.TAG_NAME, "button")))


def set_steps(driver, steps: int) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.CSS_SELECTOR, "#steps input[type=number]")
    field.clear()
    field.send_keys(str(steps))


def generate_and_wait(driver, previous: str | None = None, timeout: float = 180.0) -> str:
    """Click Generate and wait for a batch other than `previous` to finish; its folder name."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    button(driver, "Generate").click()
    wait = WebDriverWait(driver, timeout, poll_frequency=0.5, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: finished_batch(d) not in (None, previous))
    return finished_batch(driver)
