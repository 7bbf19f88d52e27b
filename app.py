"""Gradio page: a face photo and a motion (a preset, words, a clip, a direction file or a
timeline) → a video; a motion-transfer tab and a latent-video tab. Its widgets are built from
the request table (``micromotion.fields``: labels, defaults, limits, choices, help) and each
button maps them to a request served by ``micromotion.serving`` — as the Cog door and the CLI
do. Within seconds of a click the preview shows the face found, then what the work makes
(a clip's faces, the text anchors as they form, the video's first, middle and last frames);
long stages say how long is left; every error is the product's own sentence, kept until
dismissed. The examples are made at start-up while no one is served, and then show at once.

    python app.py                          # http://127.0.0.1:7860 (GRADIO_SERVER_PORT to change)
    MICROMOTION_SYNTHETIC=1 python app.py  # synthetic weights: abstract patterns, not faces
"""
from __future__ import annotations

import atexit
import inspect
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr

import stylegan2
from micromotion import page_files, serving, wording
from micromotion.direction import save_direction
from micromotion.errors import MicromotionError, ServerPathError
from micromotion.examples import Examples
from micromotion.fields import FIELDS, KINDS, MAX_FILE_MB, page_group
from micromotion.models import Models
from micromotion.motions import SOURCES
from micromotion.preview import Glimpse
from micromotion.request import Animate, LatentVideo, Transfer, file_name
from micromotion.tuning import estimate_seconds

HERE = Path(__file__).parent / "examples"
ASTRONAUT, VAN_GOGH, DRIVE = (str(HERE / n) for n in ("astronaut.jpg", "van_gogh.jpg",
                                                       "drive.mp4"))
TIMELINE_HEADERS = ["motion", "scale", "start %", "end %", "curve"]
TIMELINE_EXAMPLE = [["smile", 5, 0, 40, "ease"], ["headsTurn", 3, 40, 100, "linear"]]
# the preview's label for each glimpse of the work (``micromotion.preview.KINDS``)
GLIMPSES = {"face": "Preview: the face found in the photo",
            "clip": "Preview: the face in the clip (its first, middle and last frames)",
            "driver": "Preview: the driver's face (the clip's first, middle and last frames)",
            "anchors": "Preview: the text anchors as they form, one per degree",
            "frames": "Preview: first, middle and last frames"}
STAGES = {"align": "Finding the face", "invert": "Inverting the photo",
          "clip faces": "Finding the face in the clip's frames",
          "clip inversion": "Inverting the clip's frames",
          "anchors": "Optimising the text anchors", "direction": "Finding the direction",
          "equalise": "Spacing the circle's steps",
          "tuning models": "Loading the tuning's models (once)",
          "tune": "Tuning the generator to the photo",
          "render": "Rendering the video"}
# the latent tab's settings that only some kinds read: shown for those kinds alone
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


class Page:
    """The models and output folder the page serves from."""

    def __init__(self, models: Models, tuning_seconds: float | None = None):
        self.models, self.outputs = models, serving.Outputs()
        self.example_requests: list = []  # the examples' requests, as the tabs build them
        self.examples = Examples(models, [])
        self.tuning_seconds = tuning_seconds  # fidelity faithful's cost here, if measured

    def fidelity(self, use: str) -> dict:
        """The fidelity widget's look on the tab for ``use``: how long faithful takes on this
        machine, said beside the choice before anyone makes it."""
        took = "" if self.tuning_seconds is None else \
            f" Here faithful adds about {_duration(self.tuning_seconds)}."
        return dict(info=FIELDS["fidelity"].help_for(use) + took)

    def warm(self, start: bool = True) -> None:
        """Make the examples' results in the background (``start``; paused while anyone is
        served), so that clicking one shows its video at once."""
        self.examples = Examples(self.models, self.example_requests)
        if start:
            self.examples.start()

    def stream(self, req) -> Iterator[tuple[str, object]]:
        """Serve ``req`` in a worker thread → ("status", text), ("preview", frames) as they
        come, then ("done", result); a user's error → ``gr.Error`` (kept until dismissed).
        Closing the stream (Stop: Gradio cancels the event) stops the work at its next step."""
        made = self.examples.get(req)
        if made is not None:
            if made.glimpse is not None:
                yield "preview", made.glimpse
            yield "done", made.result
            return
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        shown: list[Glimpse] = []  # the video's first, middle and last frames, to keep

        def cancel():
            if stop.is_set():
                raise Stopped

        def progress(*step):
            cancel()
            events.put(("progress", step))

        def preview(g: Glimpse):
            shown[:] = [g] if g.what == "frames" else shown
            events.put(("preview", g))

        def work():
            try:
                with self.examples.in_use(), self.outputs.request(file_name(req)) as out:
                    result = serving.serve(req, self.models, out, progress=progress, preview=preview,
                                           cancel=cancel)
                    self.examples.keep(req, result, shown[0] if shown else None)
                    events.put(("done", result))
            except Stopped:
                print("stopped by the user", file=sys.stderr, flush=True)
            except BaseException as exc:  # handed to the page's thread below
                events.put(("error", exc))

        threading.Thread(target=work, daemon=True).start()
        clock = Clock()
        try:
            while True:
                kind, value = events.get()
                if kind == "progress":
                    if clock.due(*value):
                        yield "status", clock.text(*value)
                elif kind == "error":
                    raise page_error(value)
                elif kind == "preview" and not value.final and not clock.glimpse_due():
                    continue  # anchors mid-optimisation: a fresh look once a second is enough
                else:
                    yield kind, value
                    if kind == "done":
                        return
        finally:
            stop.set()


class Stopped(Exception):
    """The page's Stop: raised in the work's progress callback to end it between steps."""


class Clock:
    """Progress in words: the stage, how far, and (for long stages) about how long is left;
    and how often a changing preview is sent."""

    def __init__(self):
        self.started: dict[str, float] = {}
        self.shown = self.glimpsed = 0.0

    def due(self, stage: str, done: int, total: int) -> bool:
        """Whether to show this step (at most four times a second, and every stage's end)."""
        now = time.monotonic()
        self.started.setdefault(stage, now)
        if done >= total or now - self.shown > 0.25:
            self.shown = now
            return True
        return False

    def glimpse_due(self) -> bool:
        """Whether a changing preview is worth sending again (at most once a second)."""
        now = time.monotonic()
        if now - self.glimpsed < 1.0:
            return False
        self.glimpsed = now
        return True

    def text(self, stage: str, done: int, total: int) -> str:
        name = STAGES.get(stage, stage)
        if total <= 1:
            return f"{name}…"
        elapsed = time.monotonic() - self.started[stage]
        left = elapsed / done * (total - done) if done else None
        eta = f" — about {_duration(left)} left" if left and elapsed > 2 else ""
        return f"{name}: {done} of {total}{eta}"


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def page_error(exc: BaseException) -> gr.Error:
    """A user's error → its own sentence; a bug → a short note (the trace in the log). Both
    stay on the page until dismissed."""
    if isinstance(exc, (MicromotionError, stylegan2.CheckpointError)):
        return user_error(str(exc), type(exc).__name__)
    traceback.print_exception(exc)
    return gr.Error(f"Something went wrong on our side ({type(exc).__name__}: {exc}).",
                    duration=None)


def user_error(sentence: str, kind: str = "the page") -> gr.Error:
    """A user's mistake: its sentence on the page until dismissed, one line in the log
    (Gradio would print a traceback)."""
    print(f"user error ({kind}): {sentence}", file=sys.stderr, flush=True)
    return gr.Error(sentence, duration=None, title="That did not work", print_exception=False)


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


def endpoint(names: list[str], handle: Callable[[dict, dict], Iterator]) -> Callable:
    """A click handler taking the raw values of the widgets ``names`` in that order (its API
    parameters carry the fields' names) → ``handle(values, file names)``. Uploads arrive
    unprocessed, so a file that is not what it should be reaches the product's own checks
    (and messages name it by the name it was uploaded with); a file input is taken only from
    Gradio's uploads or the page's examples (``page_files``), never a path a client names."""
    def fn(*args):
        values, names_of = {}, {}
        for name, value in zip(names, args):
            if name in FIELDS and FIELDS[name].type is Path:
                try:
                    value, names_of[name] = page_files.received(
                        name, value, (page_files.upload_folder(), HERE))
                except ServerPathError as exc:
                    raise user_error(str(exc), type(exc).__name__) from None
            values[name] = _number(name, value)
        yield from handle(values, {k: v for k, v in names_of.items() if v})

    # every parameter optional for API clients: a widget's value is its default, an empty
    # one's None (a missing photo then gets the page's own sentence, as in the form)
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
         for n in names])
    return fn


def _number(name: str, value):
    """A numeric choice as the API describes it (Gradio types a dropdown's choices as
    strings: output_size "512") → the number; anything else as it came."""
    f = FIELDS.get(name)
    if f is not None and f.type is int and f.choices and isinstance(value, str) \
            and value.strip().isdigit() and len(value) <= 12:
        return int(value)
    return value


def timeline_text(table) -> str:
    """The timeline table's rows (motion, scale, start %, end %, curve) → cue text in
    percent of the video, so the cues follow the frame count."""
    rows = table["data"] if isinstance(table, dict) else (table or [])
    cues = []
    for k, row in enumerate(rows):
        motion, scale, start, end, curve = (list(row) + [""] * 5)[:5]
        if not str(motion).strip():
            continue
        try:
            start, end = (round(float(p)) for p in (start or 0, end if str(end).strip() else 100))
        except ValueError:
            raise user_error(f"row {k + 1} of the timeline: start and end are percent of the "
                             f"video (numbers from 0 to 100)") from None
        cues.append(f"{str(motion).strip()}:{scale or 5}:{start}%-{end}%:{curve or 'linear'}")
    if not cues:
        raise user_error("The timeline is empty: give each row a motion (e.g. smile).")
    return "; ".join(cues)


AS_TEXT = {"timeline": timeline_text}  # a source's widget that is not its field's text


def results(page: Page, req, outputs: dict, finish: Callable) -> Iterator[dict]:
    """Status, preview and then the finished outputs, as the request is served; an error
    also stays in the status line."""
    yield {outputs["status"]: "Starting…", outputs["preview"]: None, outputs["video"]: None,
           outputs["info"]: ""}
    shown = None  # the last glimpse, given again with the results (an API call sees those)
    ready = False  # the video's own frames are in the preview
    try:
        for kind, value in page.stream(req):
            if kind == "status":
                yield {outputs["status"]: f"Preview ready — {value}" if ready else value}
            elif kind == "preview":
                shown, ready = value, value.what == "frames"
                yield {outputs["preview"]: glimpse(value)} | (
                    {outputs["status"]: "Preview ready — rendering the video…"} if ready else {})
            else:
                yield {outputs["status"]: "Done.", outputs["info"]: describe(value),
                       outputs["preview"]: glimpse(shown), **finish(value)}
    except gr.Error as exc:
        yield {outputs["status"]: f"**Not made:** {exc.message}"}
        raise


def glimpse(g: Glimpse | None) -> dict:
    """A glimpse of the work in the preview gallery, labelled with what it shows."""
    if g is None:
        return gr.update(value=None, label=GLIMPSES["frames"])
    return gr.update(value=list(zip(g.frames, g.captions)), label=GLIMPSES[g.what],
                     columns=3 if len(g.frames) <= 3 else 6)


def describe(result: serving.Result) -> str:
    """What the video shows in plain words, then (folded) how it was made and what was
    chosen for the user, as Markdown."""
    notes = "".join(f"\n- {n}" for n in result.notes)
    details = f"**Made with** {wording.describe(result)}." + (
        f"\n\n**Chosen for you:**{notes}" if notes else "")
    return (f"{wording.plainly(result)}\n\n<details><summary>How it was made</summary>\n\n"
            f"{details}\n\n</details>")


def animate_request(v: dict, names: dict) -> Animate:
    """The Micromotion tab's widget values → its request: the chosen source's widgets (a
    file it needs uploaded), every other source's at their defaults."""
    chosen = v.pop("source")
    if v["image"] is None:
        raise user_error("Upload a photo with a face first, or pick an example below it.")
    for source in SOURCES:
        for name in source.fields:
            if name in v and source.key != chosen:
                v[name] = FIELDS[name].default  # a hidden group's widgets ask nothing
            elif name in v and name in AS_TEXT:
                v[name] = AS_TEXT[name](v[name])
        needs = FIELDS[source.fields[0]]
        if source.key == chosen and needs.type is Path and not v[needs.name]:
            what = needs.role.removeprefix("the ")
            raise user_error(f"Upload {'an' if what[0] in 'aeiou' else 'a'} {what}, or pick "
                             f"another source.")
    return Animate(**v, names=names, server_files=False)


def animate(page: Page, v: dict, names: dict, outputs: dict) -> Iterator[dict]:
    """One request from the Micromotion tab."""
    def finish(r):
        captions = wording.anchor_captions(r.direction)
        made = r.anchor_images is not None  # from words or a clip: worth keeping
        anchors = list(zip(r.anchor_images, captions)) if made else []
        return {outputs["video"]: str(r.video), outputs["aligned"]: r.aligned.image,
                outputs["anchors"]: gr.update(value=anchors, visible=made),
                outputs["direction"]: gr.update(value=str(keep_direction(r)) if made else None,
                                                visible=made)}

    yield from results(page, animate_request(v, names), outputs, finish)


def keep_direction(r) -> Path:
    """The made direction as a file beside the video (its name, ``.pt``): "A direction file"
    takes it back, the CLI's ``--direction-file`` too, without making the anchors again."""
    path = Path(r.video).with_suffix(".pt")
    save_direction(path, r.direction.vector, r.direction.meta)
    return path


def transfer_request(v: dict, names: dict) -> Transfer:
    """The Motion transfer tab's widget values → its request."""
    if v["image"] is None or not v["driving_video"]:
        raise user_error("Upload the photo whose face will move and a clip of the driving face "
                         "(or pick an example).")
    if v.pop("keep_fps"):
        v["fps"] = None
    return Transfer(**v, names=names, server_files=False)


def latent_request(v: dict, names: dict) -> LatentVideo:
    """The Latent videos tab's widget values → its request."""
    return LatentVideo(**v, names=names, server_files=False)


def video_only(page: Page, request: Callable[[dict, dict], object]) -> Callable:
    """A tab whose result is its video alone: ``request`` builds what it asks."""
    def handle(v: dict, names: dict, outputs: dict) -> Iterator[dict]:
        yield from results(page, request(v, names), outputs,
                           lambda r: {outputs["video"]: str(r.video)})
    return handle


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
    run = busy.then(endpoint(names, lambda v, n: handle(v, n, outputs)), list(inputs.values()),
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
                "aligned": gr.Image(label="Aligned face", type="pil", height=200),
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
