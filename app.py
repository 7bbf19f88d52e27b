"""Gradio page: a face photo and a motion (a preset, words, a clip, a direction file or a
timeline) → a video; a motion-transfer tab, your own video edited, and a latent-video tab.
Its widgets are built from the request table (``micromotion.fields``: labels, defaults, limits,
choices, help) and each button maps them to a request served by ``micromotion.doors.serving``
— as the Cog door and the CLI do. This file is the page's layout; how a click becomes a request, the work's thread
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

import gradio as gr

from micromotion.doors import serving
from micromotion.doors.widgets import (EXAMPLES, buttons, click, examples, expected,
                                       as_sent, faces_choice, found_faces, output_column,
                                       section)
from micromotion.fields import KINDS, MAX_FILE_MB, page_group
from micromotion.motions import SOURCES
from micromotion.doors.page import Page
from micromotion.doors.page_requests import (animate, animate_request, edit_request,
                                             latent_request, transfer_request, video_only)
from micromotion.nets.tuning import estimate_seconds

ASTRONAUT, VAN_GOGH, DRIVE = (str(EXAMPLES / n) for n in ("astronaut.jpg", "van_gogh.jpg",
                                                           "drive.mp4"))
TIMELINE_HEADERS = ["motion", "scale", "start %", "end %", "curve"]
TIMELINE_EXAMPLE = [["smile", 5, 0, 40, "ease"], ["headsTurn", 3, 40, 100, "linear"]]
KIND_ONLY = {f.name: f.kinds for f in page_group("latent", "more") if f.kinds}
BRIEF = dict(info=None)  # a widget whose label says enough
# the preview as tall as its images (Gradio holds a gallery at 450 px or more); on a phone the
# examples' table fits its column: tighter cells, smaller thumbnails, words wrap
CSS = """.status p { margin: 0; }
.preview .grid-wrap { min-height: 0 !important; max-height: none !important;
  height: auto !important; }
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
            with gr.Tab("Your video"):
                edit_tab(page)
            with gr.Tab("Latent videos"):
                latent_tab(page)
    return demo


def micromotion_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w, groups, button, stop, cost = motion_form(page, "animate", "Generate")
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
    switch_sources(w, groups)
    expected(page, w, cost, animate_request)
    click(button, stop, w, outputs, lambda v, n, o: animate(page, v, n, o), "generate")


def motion_form(page: Page, use: str, label: str) -> tuple:
    """The left column of a tab whose motion comes from any source (``use``: animate or
    edit): its main inputs, the sources, the button ``label`` with its Stop and the cost line,
    and More settings → (widgets, source groups, button, stop, cost line)."""
    w, shown = {}, {}
    section(w, use, "main", made={"faces": lambda: faces_choice(shown, use)})
    if shown:
        found_faces(w, shown)
    groups = motion_sources(w, use)
    button, stop, cost = buttons(label)
    with gr.Accordion("More settings", open=False):
        section(w, use, "more", fidelity=page.fidelity(use))
    return w, groups, button, stop, cost


def motion_sources(w: dict, use: str) -> dict:
    """Into ``w``, the "Motion from" choice, each motion source's widgets in a group of their
    own (only the chosen one shown), and the scale; → the groups by source."""
    w["source"] = gr.Radio([(s.label, s.key) for s in SOURCES],
                           value=next(s.key for s in SOURCES if s.default), label="Motion from")
    groups = {}
    for source in SOURCES:
        with gr.Group(visible=source.default) as groups[source.key]:
            section(w, use, source.key, made={"timeline": timeline_table},
                    micromotion=BRIEF, anchor_seed=BRIEF, text_template=dict(
                        value="a person with {degree} smile",
                        info="With {degree}: CLIP anchors, minutes on a CPU"))
    section(w, use, "scale")
    return groups


def switch_sources(w: dict, groups: dict) -> None:
    """The chosen source's group shown; a timeline's rows carry their own scales, so the
    global one, which would say nothing there, hides."""
    w["source"].change(lambda s: [gr.update(visible=s == k) for k in groups] +
                       [gr.update(visible=s != "timeline")], w["source"],
                       list(groups.values()) + [w["scale"]], api_name=False,
                       show_progress="hidden")


def edit_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w, groups, button, stop, cost = motion_form(page, "edit", "Edit the video")
            gr.Markdown("The face in your video makes the motion over the seconds you choose, "
                        "easing in and out; the rest of the video and its sound stay as they "
                        "were. Every frame that moves is inverted: on a CPU, about a second or "
                        "more each.")
        with gr.Column(scale=6, min_width=320):
            outputs = output_column()
    switch_sources(w, groups)
    expected(page, w, cost, edit_request)
    click(button, stop, w, outputs, video_only(page, edit_request), "edit")


def timeline_table() -> gr.Dataframe:
    """The timeline as a table of cues (``timeline_text`` writes the field's text)."""
    return as_sent(gr.Dataframe(TIMELINE_EXAMPLE, headers=TIMELINE_HEADERS,
                                label="Timeline (start and end in percent of the video)",
                                interactive=True))


def transfer_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w, shown = {}, {}
            section(w, "transfer", "main",
                    made={"faces": lambda: faces_choice(shown, "transfer")})
            found_faces(w, shown)
            button, stop, cost = buttons("Transfer the motion")
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
    expected(page, w, cost, transfer_request)
    click(button, stop, w, outputs, video_only(page, transfer_request), "transfer")


def latent_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column(scale=5, min_width=320):
            w = {}
            section(w, "latent", "main", image=dict(label="Face photo (optional)"),
                    mode=dict(component=gr.Radio, choices=KINDS, value="walk",
                              info="a walk through seeds, coarse or fine style mixing, or an "
                                   "equal-step circle"))
            button, stop, cost = buttons("Make the video")
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
    expected(page, w, cost, latent_request)
    click(button, stop, w, outputs, video_only(page, latent_request), "latent_video")


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
