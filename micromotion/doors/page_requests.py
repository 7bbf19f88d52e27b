"""Each tab of the page, from a click to its outputs: its widget values → its request
(``animate_request``, ``transfer_request``, ``latent_request``, ``edit_request``: the chosen
source's widgets, a file it needs uploaded), then the status, preview and results as the
request is served.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import gradio as gr

from . import wording
from ..latents.direction import save_direction
from ..errors import OptionError
from ..field import shown
from ..fields import FIELDS
from ..motions import SOURCES
from .page import GLIMPSES, Page
from ..media.preview import Glimpse
from ..requests.request import Animate, Edit, LatentVideo, Transfer
from ..stages.results import Result


CELLS = (str, int, float, type(None))  # what a table's cell may hold


def timeline_text(table) -> str:
    """The timeline table's rows (motion, scale, start %, end %, curve) → cue text in
    percent of the video, so the cues follow the frame count."""
    rows = table.get("data") if isinstance(table, dict) else [] if table is None else table
    if not isinstance(rows, list) or not all(
            isinstance(row, list) and all(isinstance(v, CELLS) for v in row) for row in rows):
        raise OptionError("The timeline could not be read: it is a table whose rows each give a "
                          "motion, scale, start %, end % and curve.")
    cues = []
    for k, row in enumerate(rows):
        motion, scale, start, end, curve = (list(row) + [""] * 5)[:5]
        if not str(motion).strip():
            continue
        try:
            start, end = (round(float(p)) for p in (start or 0, end if str(end).strip() else 100))
        except ValueError:
            raise OptionError(f"row {k + 1} of the timeline: start and end are percent of the "
                             f"video (numbers from 0 to 100)") from None
        cues.append(f"{str(motion).strip()}:{scale or 5}:{start}%-{end}%:{curve or 'linear'}")
    if not cues:
        raise OptionError("The timeline is empty: give each row a motion (e.g. smile).")
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
                shown, ready = value, value.rendered
                yield {outputs["preview"]: glimpse(value)} | (
                    {outputs["status"]: "Preview ready — rendering the video…"} if ready else {})
            else:
                yield {outputs["status"]: "Done.", outputs["info"]: info(value),
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


def info(result: Result) -> str:
    """What the video shows in plain words and what was chosen for the user, then (folded,
    "Details") how it was made and the paths it ran on, as Markdown."""
    notes = "".join(f"\n- {n}" for n in result.notes)
    details = "".join(f"\n- {d}" for d in result.details)
    chosen = f"\n\n**Chosen for you:**{notes}" if notes else ""
    return (f"{wording.plainly(result)}{chosen}\n\n<details><summary>Details</summary>\n\n"
            f"**Made with** {wording.describe(result)}.\n{details}\n\n</details>")


def animate_request(v: dict, names: dict) -> Animate:
    """The Micromotion tab's widget values → its request: the chosen source's widgets (a
    file it needs uploaded), every other source's at their defaults."""
    if v["image"] is None:
        raise OptionError("Upload a photo with a face first, or pick an example below it.")
    return Animate(**_source(v), names=names, server_files=False)


def edit_request(v: dict, names: dict) -> Edit:
    """The Your video tab's widget values → its request, its motion as the Micromotion
    tab's."""
    if not v["video"]:
        raise OptionError("Upload a video with a face first (mp4, mov, webm …).")
    return Edit(**_source(v), names=names, server_files=False)


def _source(v: dict) -> dict:
    """The widget values with only the chosen motion source's asking anything (``source``:
    the "Motion from" choice; a file it needs uploaded), the others' at their defaults."""
    chosen = v.pop("source")
    if chosen not in [s.key for s in SOURCES]:  # only a client of its own sends another
        raise OptionError(f"source must be one of {', '.join(s.key for s in SOURCES)}, got "
                          f"{shown(chosen)}")
    for source in SOURCES:
        for name in source.fields:
            if name in v and source.key != chosen:
                v[name] = FIELDS[name].default  # a hidden group's widgets ask nothing
            elif name in v and name in AS_TEXT:
                v[name] = AS_TEXT[name](v[name])
        needs = FIELDS[source.fields[0]]
        if source.key == chosen and needs.type is Path and not v[needs.name]:
            what = needs.role.removeprefix("the ")
            raise OptionError(f"Upload {'an' if what[0] in 'aeiou' else 'a'} {what}, or pick "
                             f"another source.")
    return v


def animate(page: Page, v: dict, names: dict, outputs: dict) -> Iterator[dict]:
    """One request from the Micromotion tab."""
    def finish(r):
        captions = wording.anchor_captions(r.direction)
        made = r.anchor_images is not None  # from words or a clip: worth keeping
        anchors = list(zip(r.anchor_images, captions)) if made else []
        return {outputs["video"]: str(r.video), outputs["aligned"]: str(keep_face(r)),
                outputs["anchors"]: gr.update(value=anchors, visible=made),
                outputs["direction"]: gr.update(value=str(keep_direction(r)) if made else None,
                                                visible=made)}

    yield from results(page, animate_request(v, names), outputs, finish)


def keep_face(r) -> Path:
    """The aligned face as a PNG beside the video, named for it (``astronaut-smile-face.png``):
    what "Aligned face" downloads."""
    path = Path(r.video).with_name(f"{Path(r.video).stem}-face.png")
    if not path.exists():  # an example's, kept from start-up
        r.aligned.image.save(path)
    return path


def keep_direction(r) -> Path:
    """The made direction as a file beside the video (its name, ``.pt``): "A direction file"
    takes it back, the CLI's ``--direction-file`` too, without making the anchors again."""
    path = Path(r.video).with_suffix(".pt")
    save_direction(path, r.direction.vector, r.direction.meta)
    return path


def transfer_request(v: dict, names: dict) -> Transfer:
    """The Motion transfer tab's widget values → its request."""
    if v["image"] is None or not v["driving_video"]:
        raise OptionError("Upload the photo whose face will move and a clip of the driving face "
                         "(or pick an example).")
    keep = v.pop("keep_fps")
    if not isinstance(keep, bool):  # only a client of its own sends another
        raise OptionError(f"keep_fps must be true or false, got {shown(keep)}")
    if keep:
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
