"""The studio's page: Gradio components wired to src/studio/batch.py. Everything it shows comes
from generate.py's own code; this file only lays out controls and turns errors into messages."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from src.generation.modes.runners import ANY_LABEL
from src.studio.batch import MAX_CLIPS, MAX_STEPS, Batch, Request, Studio, samplers_for, zip_batch
from src.studio.catalog import find_models

MODE_CHOICES = [("From noise", "sample"), ("Variation", "variation"), ("Inpaint / outpaint", "inpaint"),
                ("Continuation", "continue"), ("Interpolation", "interpolate")]
NO_LABEL = "(none)"
ALL_LABELS = "all"
# Errors a user can cause: shown as a message on the page, never as a traceback.
USER_ERRORS = (ValueError, FileNotFoundError, RuntimeError)


def theme() -> gr.themes.Base:
    """Gradio's base theme on the system's own fonts: the page fetches nothing from the internet."""
    return gr.themes.Base(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


class Page:
    """Builds the Blocks page over a Studio and the model folders it lists."""

    def __init__(self, studio: Studio, roots: list[Path], initial: str | None = None) -> None:
        self.studio = studio
        self.roots = roots
        self.initial = initial
        # per browser session: Cancel sets it, the running batch stops before its next clip
        self.stop: dict[str, threading.Event] = {}

    def model_choices(self) -> list[tuple[str, str]]:
        entries = [(entry.title, str(entry.path)) for entry in find_models(self.roots)]
        if self.initial and self.initial not in [path for _, path in entries]:
            entries.insert(0, (self.initial, self.initial))
        return entries

    def on_model(self, ckpt: str | None, mode: str):
        """Label, guidance and sampler controls for the chosen model."""
        if not ckpt:
            return gr.update(choices=[NO_LABEL], value=NO_LABEL), gr.update(), gr.update(choices=[]), "Pick a model."
        try:
            model = self.studio.model(ckpt)
        except USER_ERRORS as err:
            raise gr.Error(f"cannot open {ckpt}: {err}") from err
        labels = [NO_LABEL, *model.labels, ALL_LABELS, ANY_LABEL] if model.labels else [NO_LABEL]
        first = model.labels[0] if model.labels else NO_LABEL
        info = (f"**{type(model.representation).__name__}**, process **{model.process.describe()}**, "
                f"labels: {', '.join(model.labels) or 'none'}, {model.representation.sample_rate} Hz, "
                f"{model.representation.length / model.representation.sample_rate:.2f} s clips")
        return (gr.update(choices=labels, value=first, interactive=bool(model.labels)),
                gr.update(value=model.cfg_scale, interactive=bool(model.labels)),
                self.sampler_update(model, mode), info)

    def sampler_update(self, model, mode: str):
        names = samplers_for(model, mode)
        default = model.sampler if mode == "sample" and model.sampler in names else "ddim"
        return gr.update(choices=names, value=default if default in names else names[0])

    def on_mode(self, ckpt: str | None, mode: str):
        """Only the inputs the mode uses, and only the samplers it accepts."""
        visible = {name: gr.update(visible=mode in modes) for name, modes in INPUT_MODES.items()}
        samplers = self.sampler_update(self.studio.model(ckpt), mode) if ckpt else gr.update()
        return (samplers, *visible.values())

    def run(self, ckpt, mode, label, cfg, sampler, steps, seed, clips, loop, init_audio, init_audio2, strength,
            keep, segments, overlap, request: gr.Request, progress=gr.Progress()) -> Iterator[list]:
        """Generate the batch clip by clip, showing each clip as it lands; the zip comes last.
        This generator writes the status itself to the end, cancelled or not, so no other event
        can overwrite the final word."""
        if not ckpt:
            raise gr.Error("pick a model first")
        stop = self.stop_event(request)
        stop.clear()
        wanted = Request(mode=mode, label=None if label in (None, NO_LABEL) else label, cfg_scale=float(cfg),
                         sampler=sampler or None, steps=int(steps), seed=int(seed), clips=int(clips),
                         strength=float(strength), keep=keep or "", segments=int(segments), overlap=float(overlap),
                         loop=bool(loop), init_audio=init_audio, init_audio2=init_audio2)
        batch: Batch | None = None
        try:
            for batch in self.studio.run(ckpt, wanted, stop):
                progress((len(batch.clips), batch.total), desc="sampling")
                note = ", cancelling" if stop.is_set() else ""
                yield self.results(batch, f"{len(batch.clips)} of {batch.total} clips{note}", None)
        except USER_ERRORS as err:
            raise gr.Error(str(err)) from err
        if batch is not None:
            made = f"cancelled after {len(batch.clips)} of {batch.total}" if batch.cancelled else f"done: {len(batch.clips)}"
            yield self.results(batch, f"{made} clips in {batch.folder}", str(zip_batch(batch.folder)))

    def stop_event(self, request: gr.Request) -> threading.Event:
        """The flag this browser session's Cancel sets and its running batch reads."""
        return self.stop.setdefault(request.session_hash, threading.Event())

    def cancel(self, request: gr.Request) -> str:
        """Ask this session's running batch to stop; the clip in progress finishes first."""
        self.stop_event(request).set()
        return "cancelling after the clip in progress"

    @staticmethod
    def results(batch: Batch, status: str, zip_path: str | None) -> list:
        updates: list = [status]
        for index in range(MAX_CLIPS):
            clip = batch.clips[index] if index < len(batch.clips) else None
            name = "" if clip is None else f"{clip.wav.parent.name}/{clip.wav.name}" + (f" ({clip.label})" if clip.label else "")
            updates += [gr.update(visible=clip is not None),
                        gr.update(value=None if clip is None else str(clip.wav), label=name or "clip"),
                        gr.update(value=None if clip is None else str(clip.spectrogram))]
        return [*updates, gr.update(value=zip_path, visible=zip_path is not None)]

    def build(self) -> gr.Blocks:
        with gr.Blocks(title="audio-diffusion studio") as page:
            gr.Markdown("## audio-diffusion studio\nGenerate, audition and download clips from any checkpoint "
                        "or export. Everything runs on this machine.")
            controls = self._controls()
            slots, status, zip_file = self._results()
            self._wire(controls, slots, status, zip_file)
            page.load(self.on_model, [controls["model"], controls["mode"]],
                      [controls["label"], controls["cfg"], controls["sampler"], controls["info"]])
        return page

    def _controls(self) -> dict:
        c: dict = {}
        choices = self.model_choices()
        with gr.Row():
            c["model"] = gr.Dropdown(choices=choices, value=self.initial or (choices[0][1] if choices else None),
                                     label="Model (newest first)", scale=5)
            c["refresh"] = gr.Button("Refresh list", scale=1)
        c["info"] = gr.Markdown()
        with gr.Row():
            c["mode"] = gr.Radio(MODE_CHOICES, value="sample", label="Mode", elem_id="mode")
            c["label"] = gr.Dropdown([NO_LABEL], value=NO_LABEL, label="Label", elem_id="label")
            c["cfg"] = gr.Slider(0.0, 10.0, value=3.0, step=0.5, label="CFG scale")
            c["sampler"] = gr.Dropdown([], label="Sampler")
        with gr.Row():
            c["steps"] = gr.Slider(1, MAX_STEPS, value=50, step=1, label="Steps", elem_id="steps")
            c["seed"] = gr.Number(0, precision=0, label="Seed")
            c["random"] = gr.Button("Random seed")
            c["clips"] = gr.Slider(1, MAX_CLIPS, value=2, step=1, label="Clips (per label with 'all')", elem_id="clips")
            c["loop"] = gr.Checkbox(False, label="Make loops")
        with gr.Row():
            c["init_audio"] = gr.Audio(type="filepath", sources=["upload"], label="Input clip", visible=False)
            c["init_audio2"] = gr.Audio(type="filepath", sources=["upload"], label="Second clip", visible=False)
            c["strength"] = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Strength (0 keeps the input)", visible=False)
            c["keep"] = gr.Textbox("0-0.1", label="Keep (seconds: 0-0.1, 0.4-0.5)", visible=False)
            c["segments"] = gr.Slider(1, 8, value=1, step=1, label="Segments to add", visible=False)
            c["overlap"] = gr.Slider(0.05, 1.0, value=0.25, step=0.05, label="Overlap (seconds)", visible=False)
        with gr.Row():
            c["run"] = gr.Button("Generate", variant="primary")
            c["cancel"] = gr.Button("Cancel")
        return c

    @staticmethod
    def _results() -> tuple[list, gr.Markdown, gr.File]:
        status = gr.Markdown(elem_id="status")
        slots = []
        with gr.Row(equal_height=False):
            for index in range(MAX_CLIPS):
                with gr.Column(visible=False, min_width=220) as box:
                    audio = gr.Audio(type="filepath", interactive=False, label=f"clip {index + 1}",
                                     buttons=["download"], elem_id=f"clip-{index}")
                    image = gr.Image(type="filepath", interactive=False, show_label=False, height=140)
                    use = gr.Button("Use as input", size="sm")
                slots.append((box, audio, image, use))
        zip_file = gr.File(label="Batch (zip with manifest)", visible=False, elem_id="batch-zip")
        return slots, status, zip_file

    def _wire(self, c: dict, slots: list, status, zip_file) -> None:
        c["refresh"].click(lambda: gr.update(choices=self.model_choices()), None, c["model"])
        c["model"].change(self.on_model, [c["model"], c["mode"]], [c["label"], c["cfg"], c["sampler"], c["info"]])
        inputs = [c[name] for name in INPUT_MODES]
        c["mode"].change(self.on_mode, [c["model"], c["mode"]], [c["sampler"], *inputs])
        c["random"].click(lambda: random.randrange(2**31), None, c["seed"])
        outputs = [status, *[part for box, audio, image, _ in slots for part in (box, audio, image)], zip_file]
        run_inputs = [c[name] for name in ("model", "mode", "label", "cfg", "sampler", "steps", "seed", "clips",
                                           "loop", "init_audio", "init_audio2", "strength", "keep", "segments",
                                           "overlap")]
        c["run"].click(self.run, run_inputs, outputs, concurrency_limit=1)
        # not Gradio's `cancels`: it would kill the batch between two writes of the status, and the
        # cancel's own message could land before or after the batch's last one
        c["cancel"].click(self.cancel, None, status, queue=False)
        for _, audio, _, use in slots:
            # a result becomes the input; from unconditional sampling, switch to variation
            use.click(lambda path, mode: (path, "variation" if mode == "sample" else mode),
                      [audio, c["mode"]], [c["init_audio"], c["mode"]])


# Which modes show which input control.
INPUT_MODES = {
    "init_audio": ("variation", "inpaint", "continue", "interpolate"),
    "init_audio2": ("interpolate",),
    "strength": ("variation",),
    "keep": ("inpaint",),
    "segments": ("continue",),
    "overlap": ("continue",),
}
