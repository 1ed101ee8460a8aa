"""The studio's handlers on a tiny model: the model list, every mode, labels, bad uploads, the zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
import soundfile as sf

from src.studio.batch import Request, Studio, parse_keep, zip_batch
from src.studio.catalog import find_models
from src.studio.page import Page

KIT = ("hihat", "kick", "snare")


@pytest.fixture(scope="module")
def made(studio_ckpt, tmp_path_factory):
    """A studio and one finished unconditional-mode batch of every label."""
    studio = Studio(tmp_path_factory.mktemp("work"))
    counts = []  # clips shown after each yield: the batch grows clip by clip
    for batch in studio.run(str(studio_ckpt), Request(label="all", clips=1, steps=2)):
        counts.append(len(batch.clips))
    return studio, batch, counts


def last(studio, ckpt, request):
    return list(studio.run(str(ckpt), request))[-1]


def test_the_model_list_describes_each_checkpoint(studio_ckpt, tmp_path):
    entries = find_models([studio_ckpt.parents[2], tmp_path / "missing"])
    entry = next(e for e in entries if e.path == studio_ckpt)
    assert (entry.family, entry.process, entry.labels, entry.step) == ("waveform", "VCosineProcess", KIT, 4)
    assert "waveform" in entry.title and "hihat, kick, snare" in entry.title


def test_a_batch_lands_clip_by_clip_and_zips_with_its_manifest(made, studio_ckpt):
    studio, batch, counts = made
    assert counts == [0, 1, 2, 3] and batch.total == 3
    assert [clip.label for clip in batch.clips] == list(KIT)
    for clip in batch.clips:
        audio, rate = sf.read(clip.wav)
        assert rate == 8000 and clip.spectrogram.is_file() and abs(audio).max() > 0
    manifest = json.loads((batch.folder / "manifest.json").read_text())
    assert manifest["request"]["label"] == "all" and len(manifest["parts"]) == 3
    assert manifest["parts"][0]["parameters"]["label"] == "hihat"  # generate.py's own manifest per part
    with zipfile.ZipFile(zip_batch(batch.folder)) as archive:
        names = archive.namelist()
    assert "manifest.json" in names and sum(name.endswith(".wav") for name in names) == 3


def test_each_clip_of_a_drawn_label_carries_the_label_it_was_drawn(made, studio_ckpt):
    studio, _, _ = made
    batch = last(studio, studio_ckpt, Request(label="any", clips=4, steps=2))
    assert len(batch.clips) == 4 and all(c.label in KIT and c.label in c.wav.name for c in batch.clips)


@pytest.mark.parametrize("mode, extra", [
    ("variation", {"strength": 0.4}),
    ("inpaint", {"keep": "0-0.1"}),
    ("continue", {"segments": 1, "overlap": 0.1}),
    ("interpolate", {}),
    ("sample", {"loop": True}),
])
def test_every_mode_runs_with_a_label(made, studio_ckpt, mode, extra):
    studio, batch, _ = made
    clip = str(batch.clips[1].wav)
    request = Request(mode=mode, label="snare", cfg_scale=2.0, steps=2, clips=2, init_audio=clip,
                      init_audio2=clip, **extra)
    batch = last(studio, studio_ckpt, request)
    assert len(batch.clips) == 2 and all(c.wav.is_file() and c.label == "snare" for c in batch.clips)


def test_bad_uploads_and_unknown_labels_are_messages(made, studio_ckpt, tmp_path):
    studio, _, _ = made
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all")
    empty = tmp_path / "empty.wav"
    sf.write(empty, [], 8000)
    cases = [
        (Request(mode="variation", init_audio=str(text)), "notes.wav is not audio"),
        (Request(mode="variation", init_audio=str(empty)), "empty.wav is not audio"),
        (Request(mode="variation"), "needs an input clip"),
        (Request(label="tom"), "unknown label 'tom'; the known labels are: hihat, kick, snare"),
        (Request(clips=5, label="all"), "over the 12 clips"),
        (Request(mode="interpolate", sampler="heun", init_audio=str(empty)), "sampler heun does not run"),
    ]
    for request, message in cases:
        with pytest.raises(ValueError, match=message):
            last(studio, studio_ckpt, request)


def test_the_page_turns_errors_into_messages(made, studio_ckpt):
    studio, _, _ = made
    page = Page(studio, [])
    run = page.run(str(studio_ckpt), "sample", "tom", 3.0, None, 2, 0, 1, False, None, None, 0.5, "", 1, 0.25,
                   SimpleNamespace(session_hash="one"), progress=lambda *args, **kwargs: None)
    with pytest.raises(gr.Error, match="unknown label 'tom'"):
        next(run)
    labels, cfg, samplers, info = page.on_model(str(studio_ckpt), "interpolate")
    assert labels["choices"][1:] in ([(name, name) for name in (*KIT, "all", "any")], [*KIT, "all", "any"])
    assert samplers["choices"] in (["ddim", "euler"], [("ddim", "ddim"), ("euler", "euler")])


def test_cancel_stops_the_batch_after_the_clip_in_progress_and_the_batch_says_so(made, studio_ckpt):
    studio, _, _ = made
    page = Page(studio, [])
    me, other = SimpleNamespace(session_hash="me"), SimpleNamespace(session_hash="other")
    page.cancel(me)  # a Cancel from before this batch does not stop it
    run = page.run(str(studio_ckpt), "sample", "all", 3.0, None, 2, 0, 2, False, None, None, 0.5, "", 1, 0.25,
                   me, progress=lambda *args, **kwargs: None)
    assert next(run)[0] == "0 of 6 clips"
    assert next(run)[0] == "1 of 6 clips"
    page.cancel(other)  # another browser session's Cancel leaves this batch alone
    assert next(run)[0] == "2 of 6 clips"
    assert page.cancel(me) == "cancelling after the clip in progress"
    status = [update[0] for update in run]
    assert len(status) == 1 and status[0].startswith("cancelled after 2 of 6 clips in ")
    folder = Path(status[0].split(" in ")[-1])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["cancelled"] and len(manifest["clips"]) == 2 and len(list(folder.glob("part_*"))) == 2
    with zipfile.ZipFile(folder.with_suffix(".zip")) as archive:
        assert sum(name.endswith(".wav") for name in archive.namelist()) == 2
    run = page.run(str(studio_ckpt), "sample", "all", 3.0, None, 2, 0, 2, False, None, None, 0.5, "", 1, 0.25,
                   me, progress=lambda *args, **kwargs: None)
    assert next(run)[0] == "0 of 6 clips"
    page.cancel(me)  # before the first clip: the page still gets its last word
    assert [update[0] for update in run][-1].startswith("cancelled after 0 of 6 clips in ")


def test_keep_spans_parse_or_say_what_is_wrong():
    assert parse_keep("0-0.1, 0.5-0.74") == [[0.0, 0.1], [0.5, 0.74]]
    with pytest.raises(ValueError, match="not a span"):
        parse_keep("0.5")
