"""The page's building blocks, from the request table (``fields.FIELDS``): a field's widget
(``widget``, ``upload``), a tab's group of them (``section``), the status line, the output
column, the button with its Stop and how a click serves a request (``click``), a tab's
examples. ``app.py`` lays the tabs out with them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gradio as gr
from gradio.data_classes import GradioRootModel

from . import page_files
from ..errors import MicromotionError
from ..fields import FIELDS, page_group
from ..media.faces import Group, find, numbered
from ..stages.edit import clip_faces
from .page import GLIMPSES, Page, endpoint, received_values

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"  # the page's example files
# a new run clears the errors left on the page: one current error at a time, not a stack
CLEAR_ERRORS = "() => document.querySelectorAll('.toast-close').forEach(b => b.click())"
# once clicked, bring the visible tab's status line and the preview under it into view where
# they are not (on a phone they stand below the form, its settings and examples)
SHOW_PREVIEW = """() => {
  const line = [...document.querySelectorAll('.status-line')].find(e => e.offsetParent);
  const r = line?.getBoundingClientRect();
  if (r && (r.top < 0 || r.bottom + 200 > innerHeight))
    line.scrollIntoView({behavior: 'smooth', block: 'start'});
}"""
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
    props = dict(label=f.label, info=f.help_for(use), value=f.on_page) | overrides
    if f.type is bool:
        return gr.Checkbox(**props)
    if f.choices is not None:
        make = props.pop("component", gr.Dropdown)
        choices = props.pop("choices", f.choices)
        return make(choices=[(f.named[c], c) if c in f.named else c for c in choices], **props)
    if f.type in (int, float) and f.hi - f.lo <= 300:
        step = 1 if f.type is int else (0.05 if f.hi <= 1 else 0.1)
        return gr.Slider(f.lo, f.hi, step=step, **props)
    if f.type in (int, float):
        return gr.Number(precision=0 if f.type is int else None, minimum=f.lo, maximum=f.hi,
                         **props)
    return gr.Textbox(**props)


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


def faces_choice(shown: dict, use: str) -> gr.Dropdown:
    """The faces in the tab's photo or video, boxed and numbered (into ``shown["image"]``),
    and the Faces choice: both hidden until more than one face shows (``found_faces``)."""
    shown["in"] = FACES_IN["edit" if use == "edit" else "photo"]
    shown["image"] = gr.Image(label=f"The faces in the {shown['in'].what}", type="pil",
                              interactive=False, visible=False, height=260, show_label=True)
    f = FIELDS["faces"]
    return gr.Dropdown(shown["in"].choices, value=f.default, label=f.label,
                       allow_custom_value=True, visible=False,
                       info=f"{f.help_for(use)} Type numbers to choose several.")


def _photo_faces(image) -> Group | None:
    """The faces of the photo given (an upload, an example)."""
    path, name = page_files.received("image", image, (page_files.upload_folder(), EXAMPLES))
    return find(path, name) if path else None


def _clip_faces(video, span) -> Group | None:
    """The faces of the video given, in its span's first frame showing any (as an edit
    numbers them)."""
    path, name = page_files.received("video", video, (page_files.upload_folder(),))
    return clip_faces(path, name, span or "") if path else None


@dataclass(frozen=True)
class FacesIn:
    """What a tab numbers faces in: its inputs that say which (the file first), how they are
    found, the file in a word and what ``one`` moves there."""
    inputs: tuple[str, ...]
    look: Callable
    what: str
    one: str

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(self.one, "one"), ("every face", "all")]


FACES_IN = {"photo": FacesIn(("image",), _photo_faces, "photo", "the most confident face"),
            "edit": FacesIn(("video", "span"), _clip_faces, "video", "the most prominent face")}


def found_faces(w: dict, shown: dict) -> None:
    """As soon as a photo or video is given (or the span changes), its faces boxed and
    numbered from the left, and the Faces choice with each face's number, when there is more
    than one; a file the work would refuse shows nothing here (the button then says why)."""
    where = shown["in"]

    def found(*values):
        *values, chosen = values
        hidden = (gr.update(visible=False, value="one", choices=where.choices),
                  gr.update(visible=False, value=None))
        try:
            group = where.look(*values)
        except MicromotionError:
            group = None
        if group is None or len(group.faces) < 2:
            return hidden
        n = len(group.faces)
        choices = where.choices + [(f"face {k}", str(k)) for k in range(1, n + 1)]
        kept = chosen if chosen in [v for _, v in choices] else "one"  # the span moved on
        return (gr.update(visible=True, value=kept, choices=choices),
                gr.update(visible=True, value=numbered(group),
                          label=f"{n} faces in {group.name}, numbered from the left"))

    given = [w[n] for n in where.inputs]
    triggers = [given[0].change] + [e for t in given[1:] for e in (t.submit, t.blur)]
    gr.on(triggers, found, given + [w["faces"]], [w["faces"], shown["image"]], api_name=False,
          preprocess=False, show_progress="hidden")


class AsSent(GradioRootModel):
    """Any JSON value, taken as it was sent."""
    root: Any


def as_sent(table: gr.Dataframe) -> gr.Dataframe:
    """``table`` with its value reaching the page as it was sent — ``{"headers", "data"}``
    from the page, anything from an API call — for the page to read in its own words
    (``page_requests.timeline_text``): Gradio's own check refused a malformed one with a bare
    "Error". (Set on the widget itself: for a subclass of one of its components, Gradio writes
    a ``.pyi`` file beside the subclass's module.)"""
    table.data_model = AsSent
    table.preprocess = lambda payload: None if payload is None else payload.root
    return table


def status() -> gr.Markdown:
    """The line under the button: what is happening, how long is left, or what went wrong."""
    return gr.Markdown("First a preview shows, then the video.",
                       elem_classes=["status", "status-line"])


def output_column(extra: Callable[[], dict] | None = None) -> dict:
    """The right-hand column: the status line and under it the preview — the whole of each
    image in view, never cropped nor scrolled — then the video, how it was made (and
    ``extra``)."""
    out = {"status": status(),
           "preview": gr.Gallery(label=GLIMPSES["frames"], columns=3, height="auto",
                                 object_fit="contain", fit_columns=False,
                                 elem_classes="preview"),
           "video": gr.Video(label="Video", autoplay=True, loop=True, height=360),
           "info": gr.Markdown()}
    if extra is not None:
        out.update(extra())
    return out


def buttons(label: str) -> tuple[gr.Button, gr.Button, gr.Markdown]:
    """The tab's button, a Stop beside it that shows while the work runs, and under them the
    line saying what the request as set would cost here (``expected``)."""
    with gr.Row():
        go = gr.Button(label, variant="primary", scale=3)
        stop = gr.Button("Stop", variant="stop", visible=False, scale=1)
    return go, stop, gr.Markdown("", elem_classes=["status", "cost"])


def expected(page: Page, w: dict, line: gr.Markdown, request: Callable) -> None:
    """Whenever a setting of the tab ``w`` changes, ``line`` says what its request
    (``request(values, file names)``) would cost here (``Page.expected``) — before anyone
    clicks; nothing while the request could not be made (its button then says why)."""
    names = list(w)

    def fn(*args):
        try:
            return page.expected(request(*received_values(names, args, EXAMPLES)))
        except MicromotionError:
            return ""

    gr.on([c.change for c in w.values()], fn, list(w.values()), line, api_name=False,
          preprocess=False, show_progress="hidden", trigger_mode="always_last")


def click(button: gr.Button, stop: gr.Button, inputs: dict, outputs: dict, handle,
          api_name: str) -> None:
    """``button`` serves the tab's request (API ``api_name``), disabled while it runs; Stop
    cancels it, which ends the work at its next step (``Page.stream``). The click brings the
    status line and the preview under it into view where they are not."""
    names, line = list(inputs), outputs["status"]
    quick = dict(api_name=False, queue=False, show_progress="hidden")
    button.click(None, None, None, js=CLEAR_ERRORS, **quick)
    button.click(None, None, None, js=SHOW_PREVIEW, **quick)
    busy = button.click(_busy, None, [button, stop], **quick)
    run = busy.then(endpoint(names, lambda v, n: handle(v, n, outputs), EXAMPLES),
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
