"""Gradio page: a face photo and a motion (a preset, words, a clip or a timeline) → a video;
a motion-transfer tab and a latent-video tab. Its widgets are built from the request table
(``micromotion.fields``: labels, defaults, limits, choices, help) and each button maps them
to a request served by ``micromotion.serving`` — the same as the Cog door and the CLI.

    python app.py                          # http://127.0.0.1:7860 (GRADIO_SERVER_PORT to change)
    MICROMOTION_SYNTHETIC=1 python app.py  # synthetic weights: abstract patterns, not faces
"""
from __future__ import annotations

import contextlib
import inspect
import os
import traceback
from pathlib import Path
from typing import Callable

import gradio as gr

import stylegan2
from micromotion import serving
from micromotion.errors import MicromotionError
from micromotion.fields import FIELDS, KINDS
from micromotion.models import Models
from micromotion.request import Animate, LatentVideo, Transfer

EXAMPLES = sorted(str(p) for p in (Path(__file__).parent / "examples").glob("*.jpg"))
SOURCES = ("preset", "text", "video", "file", "timeline")
TIMELINE_HEADERS = ["motion", "strength", "start", "end", "curve"]
TIMELINE_EXAMPLE = [["smile", 5, 0, 40, "ease"], ["headsTurn", 3, 40, 99, "linear"]]


class Page:
    """The models and output folder the page serves from."""

    def __init__(self, models: Models):
        self.models, self.outputs = models, serving.Outputs()

    def serve(self, req, progress: gr.Progress) -> tuple[str, serving.Result, str]:
        """(the video, the result, how it was made and what was chosen, in words)."""
        with page_errors(), self.outputs.request(serving.file_name(req)) as out:
            result = serving.serve(req, self.models, out,
                                   lambda stage, i, n: progress(i / max(n, 1), desc=stage))
        info = "Made with " + serving.describe(result)
        return str(result.video), result, "\n".join([info] + [f"Note: {n}" for n in result.notes])


def widget(name: str, **overrides) -> gr.components.Component:
    """The page's widget for a field of the request table (``overrides``: other props)."""
    f = FIELDS[name]
    props = dict(label=f.label, info=f.help, value=f.default) | overrides
    if f.type is bool:
        return gr.Checkbox(**props)
    if f.choices is not None:
        return gr.Dropdown(choices=list(props.pop("choices", f.choices)), **props)
    if f.type in (int, float) and f.hi - f.lo <= 300:
        step = 1 if f.type is int else (0.05 if f.hi <= 1 else 0.1)
        return gr.Slider(f.lo, f.hi, step=step, **props)
    if f.type in (int, float):
        return gr.Number(precision=0 if f.type is int else None, minimum=f.lo, maximum=f.hi,
                         **props)
    return gr.Textbox(**props)


def endpoint(names: list[str], handle: Callable) -> Callable:
    """A click handler taking the widgets of ``names`` in that order (its API parameters carry
    the fields' names) → ``handle(values by name, progress)``."""
    def fn(*args):
        return handle(dict(zip(names, args[:-1])), args[-1])

    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    fn.__signature__ = inspect.Signature(params + [inspect.Parameter(
        "progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress())])
    return fn


@contextlib.contextmanager
def page_errors():
    """User errors → their sentence on the page; a bug → a short note (the trace in the log)."""
    try:
        yield
    except (MicromotionError, stylegan2.CheckpointError) as exc:
        raise gr.Error(str(exc)) from None
    except Exception as exc:  # keep the page alive and say so
        traceback.print_exc()
        raise gr.Error(f"Something went wrong on our side ({type(exc).__name__}: {exc}).") from None


def timeline_text(rows) -> str:
    """The timeline table's rows (motion, strength, start, end, curve) → cue text."""
    rows = rows.values.tolist() if hasattr(rows, "values") else (rows or [])
    cues = []
    for row in rows:
        motion, strength, start, end, curve = (list(row) + [""] * 5)[:5]
        if str(motion).strip():
            cues.append(f"{str(motion).strip()}:{strength or 5}:{int(start or 0)}-{int(end)}"
                        f":{curve or 'linear'}" if str(end).strip() else
                        f"{str(motion).strip()}:{strength or 5}")
    return "; ".join(cues)


def animate(page: Page, v: dict, progress: gr.Progress):
    """One request from the Micromotion tab → (video, aligned face, anchor images, info)."""
    source = v.pop("source")
    v["text_template"] = v["text_template"] if source == "text" else ""
    v["anchor_video"] = v["anchor_video"] if source == "video" else None
    v["direction_file"] = v["direction_file"] if source == "file" else None
    v["timeline"] = timeline_text(v["timeline"]) if source == "timeline" else ""
    if source == "video" and not v["anchor_video"]:
        raise gr.Error("Upload a short clip of one face doing the motion, or pick another source.")
    video, result, info = page.serve(Animate(**v), progress)
    anchors = list(result.anchor_images) if result.anchor_images is not None else []
    return video, result.aligned.image, anchors, info


def transfer(page: Page, v: dict, progress: gr.Progress):
    """One motion-transfer request → (video, info)."""
    if v.pop("keep_fps"):
        v["fps"] = None
    video, _, info = page.serve(Transfer(**v), progress)
    return video, info


def latent(page: Page, v: dict, progress: gr.Progress):
    """One latent-video request → (video, info)."""
    video, _, info = page.serve(LatentVideo(**v), progress)
    return video, info


def build(page: Page) -> gr.Blocks:
    with gr.Blocks(title="micromotion", delete_cache=(600, 3600)) as demo:
        gr.Markdown("# micromotion\nOne face photo → a video of that face moving: a published "
                    "micromotion, one you describe in words, or one you show in a clip."
                    + ("\n\n**Synthetic weights**: the models are random, so the video shows "
                       "abstract patterns, not faces." if page.models.synthetic else ""))
        with gr.Tab("Micromotion"):
            micromotion_tab(page)
        with gr.Tab("Motion transfer"):
            transfer_tab(page)
        with gr.Tab("Latent videos"):
            latent_tab(page)
    return demo


def photo(name: str = "image", label: str | None = None) -> gr.Image:
    return gr.Image(type="filepath", label=label or FIELDS[name].label, sources=["upload"])


def clip(name: str) -> gr.Video:
    return gr.Video(label=FIELDS[name].label, sources=["upload"])


def micromotion_tab(page: Page) -> None:
    with gr.Row():
        with gr.Column():
            w = {"image": photo()}
            if EXAMPLES:
                gr.Examples(EXAMPLES, inputs=w["image"], label="Example photos")
            w["source"] = gr.Radio(list(SOURCES), value="preset", label="Motion from")
            w["micromotion"] = widget("micromotion")
            w["text_template"] = widget("text_template", value="a person with {degree} smile")
            w["anchor_seed"] = widget("anchor_seed")
            w["anchor_video"] = clip("anchor_video")
            w["direction_file"] = gr.File(label=FIELDS["direction_file"].label, type="filepath")
            w["timeline"] = gr.Dataframe(TIMELINE_EXAMPLE, headers=TIMELINE_HEADERS,
                                         type="array", label=FIELDS["timeline"].label,
                                         interactive=True)
            for name in ("scale", "frames", "curve", "fps", "output_size", "side_by_side",
                         "paste_back"):
                w[name] = widget(name)
            button = gr.Button("Generate", variant="primary")
        with gr.Column():
            outputs = [gr.Video(label="Micromotion", autoplay=True, loop=True),
                       gr.Image(label="Aligned input", type="pil"),
                       gr.Gallery(label="Anchors", columns=6, height="auto"),
                       gr.Textbox(label="How it was made", interactive=False)]
    button.click(endpoint(list(w), lambda v, p: animate(page, v, p)), list(w.values()), outputs,
                 api_name="generate", concurrency_limit=1)


def transfer_tab(page: Page) -> None:
    gr.Markdown("The photo's face performs the motion of a face in a clip, at the clip's "
                "timing — no training: the driver's motion, projected on its low-rank "
                "subspace, moves the layers that carry it.")
    with gr.Row():
        with gr.Column():
            w = {"image": photo(), "driving_video": clip("driving_video"),
                 "strength": widget("strength"), "neutral_frame": widget("neutral_frame"),
                 "keep_fps": gr.Checkbox(True, label="Keep the driver's frame rate")}
            for name in ("fps", "output_size", "side_by_side", "paste_back"):
                w[name] = widget(name)
            button = gr.Button("Transfer the motion", variant="primary")
        with gr.Column():
            outputs = [gr.Video(label="Transferred motion", autoplay=True, loop=True),
                       gr.Textbox(label="How it was made", interactive=False)]
    button.click(endpoint(list(w), lambda v, p: transfer(page, v, p)), list(w.values()),
                 outputs, api_name="transfer", concurrency_limit=1)


def latent_tab(page: Page) -> None:
    gr.Markdown("Videos that need no motion: a **walk** through generated faces (seeds), "
                "**coarse** or **fine** style mixing (one face whose pose and expression, or "
                "hair and colours, follow a walk) and a **circle**, a seamless loop at an even "
                "pace. A photo, if given, starts the walk or is the face held or circled.")
    with gr.Row():
        with gr.Column():
            w = {"mode": widget("mode", choices=KINDS, value="walk"),
                 "image": photo(label="Face photo (optional)")}
            for name in ("seeds", "interpolation", "frames_per_segment", "loop", "source_seed",
                         "radius", "frames", "truncation", "fps", "output_size"):
                w[name] = widget(name)
            button = gr.Button("Make the video", variant="primary")
        with gr.Column():
            outputs = [gr.Video(label="Latent video", autoplay=True, loop=True),
                       gr.Textbox(label="How it was made", interactive=False)]
    button.click(endpoint(list(w), lambda v, p: latent(page, v, p)), list(w.values()), outputs,
                 api_name="latent_video", concurrency_limit=1)


def main() -> None:
    page = Page(Models.for_serving())
    build(page).queue(default_concurrency_limit=1).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))


if __name__ == "__main__":
    main()
