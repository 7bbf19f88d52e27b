"""Gradio page: a face photo and a motion (a preset, words, a clip, a direction file or a
timeline) → a video; a motion-transfer tab and a latent-video tab. Its widgets are built from
the request table (``micromotion.fields``: labels, defaults, limits, choices, help) and each
button maps them to a request served by ``micromotion.doors.serving`` — as the Cog door and
the CLI do. This file is the page's layout; how a click becomes a request, the work's thread
and its clock are ``micromotion.doors.page``'s and ``page_requests``'. Within seconds of a
click the preview shows the face found, then what the work makes (a clip's faces, the text
anchors as they form, the video's first, middle and last frames);
long stages say how long is left; every error is the product's own sentence, kept until
dismissed. The examples are made at start-up while no one is served, and then show at once.

    python app.py                          # http://127.0.0.1:7860 (GRADIO_SERVER_PORT to change)
    MICROMOTION_SYNTHETIC=1 python app.py  # synthetic weights: abstract patterns, not faces
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import gradio as gr

from micromotion.doors import serving
from micromotion.fields import FIELDS, KINDS, MAX_FILE_MB, page_group
from micromotion.motions import SOURCES
from micromotion.doors.page import GLIMPSES, Page, endpoint
from micromotion.doors.page_requests import (animate, animate_request, latent_request,
                                       transfer_request, video_only)
from micromotion.nets.tuning import estimate_seconds

HERE = Path(__file__).parent / "examples"
ASTRONAUT, VAN_GOGH, DRIVE = (str(HERE / n) for n in ("astronaut.jpg", "van_gogh.jpg",
                                                       "drive.mp4"))
TIMELINE_HEADERS = ["motion", "scale", "start %", "end %", "curve"]
TIMELINE_EXAMPLE = [["smile", 5, 0, 40, "ease"], ["headsTurn", 3, 40, 100, "linear"]]
KIND_ONLY = {f.name: f.kinds for f in page_group("latent", "more") if f.kinds}
BRIEF = dict(info=None)  # a widget whose label says enough
# on a phone the examples' table fits its column: tighter cells, smaller thumbnails, words wrap
CSS = """.status p { margin: 0; }
@media (max-width: 520px) {
  [id^="examples-"] th, [id^="examples-"] td { padding: 4px !important; font-size: 12px;
    white-space: normal !important; }
  [id^="examples-"] td .container, [id^="examples-"] img { width: 48px !important;
    height: 48px !important; }
}"""
INTRO = ("Give a photo with a face and pick a motion — a published one (smile, age, close the "
         "eyes, turn the head), words, a clip of someone doing it, or a timeline of several — "
         "and the face in your photo does it, in a short video. It works on paintings too. "
         "A preview follows the work within seconds; then the video. The examples, made in "
         "the background when the page starts, show at once.")
# a new run clears the errors left on the page: one current error at a time, not a stack
CLEAR_ERRORS = "() => document.querySelectorAll('.toast-close').forEach(b => b.click())"
# after a result, bring the visible tab's video into view (on a phone it is far below)
SHOW_RESULT = ("() => setTimeout(() => [...document.querySelectorAll('video')]"
               ".find(v => v.offsetParent)?.scrollIntoView({behavior: 'smooth', "
               "block: 'nearest'}), 300)")


def widget(name: str, use: str | None = None, **overrides) -> gr.components.Component:
    """The page's widget for a field of the request table, its help in the words of the tab's
    ``use`` (``overrides``: other props; ``component``, a choice's other widget)."""
    f = FIELDS[name]
    if f.type is Path:
        return upload(f, overrides.get("label"))
    props = dict(label=f.label, info=f.help_for(use), value=f.default) | overrides
    if f.type is bool:
        return gr.Checkbox(**props)
    if f.choices is not None:
        make = props.pop("component", gr.Dropdown)
        return make(choices=list(props.pop("choices", f.choices)), **props)
    if f.type in (int, float) and f.hi - f.lo <= 300:
        step = 1 if f.type is int else (0.05 if f.hi <= 1 else 0.1)
        return gr.Slider(f.lo, f.hi, step=step, **props)
    if f.type in (int, float):
        return gr.Number(precision=0 if f.type is int else None, minimum=f.lo, maximum=f.hi,
                         **props)
    return gr.Textbox(**props)


def build(page: Page) -> gr.Blocks:
    # Gradio's copies of uploads and results: looked at every 5 min, gone after 15
    with gr.Blocks(title="micromotion", delete_cache=(300, 900)) as demo:
        gr.Markdown("### micromotion — one face photo → a video of that face moving"
                    + (" · *synthetic weights: abstract patterns, not faces*"
                       if page.models.synthetic else ""))
        gr.Markdown(INTRO)
        with gr.Tabs(overflow_behavior="wrap"):  # every tab in view on a phone, not behind ⋯
            with gr.Tab("Micromotion"):
                micromotion_tab(page)
            with gr.Tab("Motion transfer"):
                transfer_tab(page)
            with gr.Tab("Latent videos"):
                latent_tab(page)
    return demo


def upload(f, label: str | None = None) -> gr.components.Component:
    """The upload for a file field, by what it ``accept``s: a photo, a clip or any file."""
    label = label or f.label
    if f.accept == "image":
        return gr.Image(type="filepath", label=label, sources=["upload"], height=260)
    if f.accept == "video":
        return gr.Video(label=label, sources=["upload"], height=200)
    return gr.File(label=label, type="filepath", height=90)


def section(w: dict, use: str, group: str, made: dict[str, Callable] | None = None,
            **looks: dict) -> None:
    """Into ``w``, the widgets the table puts in ``group`` of the tab for ``use``, in the
    table's order: each its field's ``widget`` with the props ``looks[name]``, or what
    ``made[name]()`` makes where the tab shows the field its own way."""
    for f in page_group(use, group):
        made_here = (made or {}).get(f.name)
        w[f.name] = made_here() if made_here else widget(f.name, use, **looks.get(f.name, {}))


def status() -> gr.Markdown:
    """The line under the button: what is happening, how long is left, or what went wrong."""
    return gr.Markdown("First a preview shows, then the video.", elem_classes="status")


def output_column(extra: Callable[[], dict] | None = None) -> dict:
    """The right-hand column: preview, the video, how it was made (and ``extra``)."""
    out = {"preview": gr.Gallery(label=GLIMPSES["frames"], columns=3,
                                 height=180, object_fit="contain"),
           "video": gr.Video(label="Video", autoplay=True, loop=True, height=360),
           "info": gr.Markdown()}
    if extra is not None:
        out.update(extra())
    return out


def buttons(label: str) -> tuple[gr.Button, gr.Button]:
    """The tab's button, and a Stop beside it that shows while the work runs."""
    with gr.Row():
        go = gr.Button(label, variant="primary", scale=3)
        stop = gr.Button("Stop", variant="stop", visible=False, scale=1)
    return go, stop


def click(button: gr.Button, stop: gr.Button, line: gr.Markdown, inputs: dict, outputs: dict,
          handle, api_name: str) -> None:
    """``button`` serves the tab's request (API ``api_name``), disabled while it runs; Stop
    cancels it, which ends the work at its next step (``Page.stream``)."""
    names = list(inputs)
    outputs = {"status": line, **outputs}
    quick = dict(api_name=False, queue=False, show_progress="hidden")
    button.click(None, None, None, js=CLEAR_ERRORS, **quick)
    busy = button.click(_busy, None, [button, stop], **quick)
    run = busy.then(endpoint(names, lambda v, n: handle(v, n, outputs), HERE),
                    list(inputs.values()),
                    list(outputs.values()), api_name=api_name, concurrency_limit=1,
                    preprocess=False, show_progress="hidden")
    run.then(_idle, None, [button, stop], **quick)
    # Gradio 6's page runs no .then() after an error (only .failure()): without this the
    # button stayed disabled after a user's mistake
    run.failure(_idle, None, [button, stop], **quick)
    run.success(None, None, None, js=SHOW_RESULT, **quick)
    stop.click(lambda: _idle() + ("Stopped.",), None, [button, stop, line], cancels=[run],
               **quick)


def _busy() -> tuple[dict, dict]:
    return gr.update(interactive=False), gr.update(visible=True)


def _idle() -> tuple[dict, dict]:
    return gr.update(interactive=True), gr.update(visible=False)


def examples(page: Page, w: dict, names: list[str], rows: list[list], request: Callable,
             **props) -> gr.Examples:
    """The tab's examples table (``rows`` of the widgets ``names``), each also a request —
    the other widgets at their first values — for the page to make at start-up."""
    for row in rows:
        v = {k: c.value for k, c in w.items()} | dict(zip(names, row))
        files = {k: Path(v[k]).name for k in names if k in FIELDS and FIELDS[k].type is Path
                 and v[k]}
        page.example_requests.append(request(v, files))
    return gr.Examples(rows, inputs=[w[k] for k in names], **props)


def micromotion_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w = {}
            section(w, "animate", "main")
            w["source"] = gr.Radio([(s.label, s.key) for s in SOURCES],
                                   value=next(s.key for s in SOURCES if s.default),
                                   label="Motion from")
            groups = {}
            for source in SOURCES:
                with gr.Group(visible=source.default) as groups[source.key]:
                    section(w, "animate", source.key, made={"timeline": timeline_table},
                            micromotion=BRIEF, anchor_seed=BRIEF, text_template=dict(
                                value="a person with {degree} smile",
                                info="With {degree}: CLIP anchors, minutes on a CPU"))
            section(w, "animate", "scale")
            button, stop = buttons("Generate")
            line = status()
            with gr.Accordion("More settings", open=False):
                section(w, "animate", "more", fidelity=page.fidelity("animate"))
            examples(page, w, ["image", "source", "micromotion", "scale"],
                     [[ASTRONAUT, "preset", "smile", 5], [VAN_GOGH, "preset", "aging", 4],
                      [ASTRONAUT, "timeline", "smile", 5]], animate_request,
                     label="Examples (a photo and a painting)", elem_id="examples-animate")
        with gr.Column(scale=6, min_width=320):
            outputs = output_column(lambda: {
                "aligned": gr.Image(label="Aligned face", type="filepath", height=200),
                "anchors": gr.Gallery(label="Anchors (captioned with their degree or time)",
                                      columns=6, height="auto", visible=False),
                "direction": gr.File(label="The direction, to use again (as a direction file)",
                                     visible=False, height=90)})
    # a timeline's rows carry their own scales: the global one would say nothing there
    w["source"].change(lambda s: [gr.update(visible=s == k) for k in groups] +
                       [gr.update(visible=s != "timeline")], w["source"],
                       list(groups.values()) + [w["scale"]], api_name=False,
                       show_progress="hidden")
    click(button, stop, line, w, outputs, lambda v, n, o: animate(page, v, n, o), "generate")


def timeline_table() -> gr.Dataframe:
    """The timeline as a table of cues (``timeline_text`` writes the field's text)."""
    return gr.Dataframe(TIMELINE_EXAMPLE, headers=TIMELINE_HEADERS, type="array",
                        label="Timeline (start and end in percent of the video)",
                        interactive=True)


def transfer_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w = {}
            section(w, "transfer", "main")
            button, stop = buttons("Transfer the motion")
            line = status()
            with gr.Accordion("More settings", open=False):
                w["keep_fps"] = gr.Checkbox(True, label="Keep the driver's frame rate")
                section(w, "transfer", "more", fidelity=page.fidelity("transfer"))
            examples(page, w, ["image", "driving_video", "scale"],
                     [[ASTRONAUT, DRIVE, 5], [VAN_GOGH, DRIVE, 8]], transfer_request,
                     label="Examples (the clip was made from the astronaut photo)",
                     elem_id="examples-transfer")
            gr.Markdown("The photo's face performs the clip's motion at its timing — no "
                        "training: the driver's motion, projected on its low-rank subspace, "
                        "moves the layers that carry it.")
        with gr.Column(scale=6, min_width=320):
            outputs = output_column()
    click(button, stop, line, w, outputs, video_only(page, transfer_request), "transfer")


def latent_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w = {}
            section(w, "latent", "main", image=dict(label="Face photo (optional)"),
                    mode=dict(component=gr.Radio, choices=KINDS, value="walk",
                              info="a walk through seeds, coarse or fine style mixing, or an "
                                   "equal-step circle"))
            button, stop = buttons("Make the video")
            line = status()
            with gr.Accordion("More settings", open=False):
                section(w, "latent", "more", fidelity=page.fidelity("latent"),
                        **{name: dict(visible="walk" in kinds) for name, kinds in KIND_ONLY.items()})
            examples(page, w, ["mode", "image", "seeds"],
                     [["walk", None, "1-4"], ["circle", ASTRONAUT, "1,2"],
                      ["coarse", VAN_GOGH, "5-8"]], latent_request, label="Examples",
                     elem_id="examples-latent")
        with gr.Column(scale=6, min_width=320):
            outputs = output_column()
    shown = [w[name] for name in KIND_ONLY]
    w["mode"].change(lambda mode: [gr.update(visible=mode in kinds) for kinds in
                                   KIND_ONLY.values()], w["mode"], shown, api_name=False,
                     show_progress="hidden")
    click(button, stop, line, w, outputs, video_only(page, latent_request), "latent_video")


def main() -> None:
    gradio_folder = private_gradio_folder()
    models = serving.load_models()
    page = Page(models, estimate_seconds(models.generator, models.lpips()))
    demo = build(page)
    page.warm(start=os.environ.get("MICROMOTION_WARM_EXAMPLES", "1") != "0")
    page.outputs.remove_on_sigterm(also=lambda: shutil.rmtree(gradio_folder, ignore_errors=True))
    demo.queue(default_concurrency_limit=1).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), css=CSS,
        max_file_size=MAX_FILE_MB * 1_000_000)


def private_gradio_folder() -> Path:
    """A folder of this page's own for Gradio's uploads and copies of results (inside
    ``GRADIO_TEMP_DIR`` where the operator set one), removed when the page stops — a SIGTERM
    included — so a stopped page leaves no user's file; the page takes files from it alone."""
    base = os.environ.get("GRADIO_TEMP_DIR")
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="micromotion-page-", dir=base))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)  # read by Gradio for each upload and copy
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


if __name__ == "__main__":
    main()
