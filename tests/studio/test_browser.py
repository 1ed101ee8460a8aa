"""The studio in headless Chromium: generate two clips, check the WAVs the players serve, switch
label and mode, download the batch zip, and fail on any request that leaves localhost.

Needs Debian's chromium and chromium-driver and the selenium package (an explicit driver path:
nothing is downloaded); skips with the reason when one is missing."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.request
import zipfile

import pytest
import soundfile as sf
import torch

from src.studio.headless import (browser_missing, button, generate_and_wait, headless_chromium, running_studio,
                                 set_steps, status_text, wait_for_page)

LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "blob:")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))]


def served_links(driver) -> list[str]:
    """The file each result player serves (its download link), in slot order."""
    from selenium.webdriver.common.by import By

    links = []
    for slot in range(12):
        found = driver.find_elements(By.CSS_SELECTOR, f"#clip-{slot} a.download-link")
        if found and found[0].get_attribute("href"):
            links.append(found[0].get_attribute("href"))
    return links


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def requested_urls(driver) -> set[str]:
    return {json.loads(entry["message"])["message"].get("params", {}).get("request", {}).get("url", "")
            for entry in driver.get_log("performance")}


def test_the_studio_in_a_real_browser(studio_ckpt, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    length = torch.load(studio_ckpt, map_location="cpu", weights_only=True)["config"]["audio"]["length"]
    arguments = [f"ckpt={studio_ckpt}", f"logs={tmp_path / 'logs'}", f"saved_models={tmp_path / 'saved'}",
                 f"work_dir={tmp_path / 'work'}"]
    with running_studio(arguments, tmp_path / "studio.log") as url, headless_chromium() as browser:
        wait_for_page(browser, url)
        set_steps(browser, 3)
        first = generate_and_wait(browser)
        links = served_links(browser)
        assert len(links) == 2
        for link in links:  # no sound device headless: check the files the players serve
            audio, rate = sf.read(io.BytesIO(fetch(link)))
            assert len(audio) == length and abs(audio).max() > 1e-3

        browser.find_element(By.CSS_SELECTOR, "#label input").click()
        next(o for o in browser.find_elements(By.CSS_SELECTOR, "li.item") if o.text.strip() == "snare").click()
        button(browser, "Use as input").click()  # from noise -> variation, with the first clip as input
        WebDriverWait(browser, 30).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#mode input[value=variation]").is_selected())
        generate_and_wait(browser, first)
        labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "[id^=clip-] label")]
        assert sum("(snare)" in text for text in labels) == 2, labels

        zip_link = browser.find_element(By.CSS_SELECTOR, "#batch-zip a").get_attribute("href")
        with zipfile.ZipFile(io.BytesIO(fetch(zip_link))) as archive:
            names = archive.namelist()
            manifest = json.loads(archive.read("manifest.json"))
        assert sum(name.endswith(".wav") for name in names) == 2
        assert manifest["request"]["mode"] == "variation" and manifest["request"]["label"] == "snare"

        # a long batch, cancelled after its first clip: no more clips are made, the page and manifest say so
        for field, value in (("#clips", 12), ("#steps", 200)):
            box = browser.find_element(By.CSS_SELECTOR, f"{field} input[type=number]")
            box.clear()
            box.send_keys(str(value))
        button(browser, "Generate").click()
        WebDriverWait(browser, 120, poll_frequency=0.2).until(lambda d: "1 of 12" in status_text(d))
        button(browser, "Cancel").click()
        # the clip in progress finishes first: as long as the wait for the first clip on a loaded machine
        WebDriverWait(browser, 120, poll_frequency=0.2).until(lambda d: "cancelled after" in status_text(d))
        made = int(re.search(r"cancelled after (\d+) of 12 clips", status_text(browser)).group(1))
        newest = max((tmp_path / "work").glob("batch_*/"), key=lambda p: p.name)
        time.sleep(3)
        assert made == len(list(newest.glob("part_*"))) < 12
        assert json.loads((newest / "manifest.json").read_text())["cancelled"]

        outside = sorted(u for u in requested_urls(browser) if u and not u.startswith(LOCAL))
        assert not outside, f"the page fetched from outside this machine: {outside}"
