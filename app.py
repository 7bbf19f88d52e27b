"""Gradio page on the Cog ``Predictor`` (same models, same request logic in
``micromotion.serving``): a face photo and a motion (a preset, words, or a clip) → a video;
a second tab makes latent videos (walks through seeds, style mixing, circular loops).

    python app.py                          # http://127.0.0.1:7860 (GRADIO_SERVER_PORT to change)
    MICROMOTION_SYNTHETIC=1 python app.py  # synthetic weights: abstract patterns, not faces
"""
from __future__ import annotations

import contextlib
import functools
import os
import traceback
from pathlib import Path

import gradio as gr

import stylegan2
from micromotion import serving
from micromotion.direction import PRESETS
from micromotion.errors import MicromotionError
from micromotion.interpolate import KINDS, METHODS
from micromotion.render import CURVES
from predict import Predictor

EXAMPLES = sorted(str(p) for p in (Path(__file__).parent / "examples").glob("*.jpg"))
SOURCES = ("preset", "text", "video", "timeline")
PASTE_BACK = ("auto", "on", "off")
TIMELINE_HEADERS = ["motion", "strength", "start", "end", "curve"]
TIMELINE_EXAMPLE = [["smile", 5, 0, 40, "ease"], ["headsTurn", 3, 40, 99, "linear"]]


def generate(predictor: Predictor, image, source, preset, template, seed, video, strength,
             frames, curve, fps, size, side_by_side, paste_back="auto", cues=None,
             progress=gr.Progress()):
    """One request from the page → (video, aligned face, anchor images, how it was made)."""
    if image is None:
        raise gr.Error("Upload a photo with a face first (or pick the example).")
    motion = {"text_template": template if source == "text" else None,
              "anchor_video": video if source == "video" else None,
              "timeline": timeline_text(cues) if source == "timeline" else None}
    if source == "video" and not video:
        raise gr.Error("Upload a short clip of one face doing the motion, or pick another source.")
    with page_errors():
        result = serving.animate_request(
            predictor.mm, predictor.outputs, image, preset, int(strength),
            anchor_seed=int(seed), frames=int(frames), fps=float(fps), curve=curve,
            output_size=int(size), side_by_side=bool(side_by_side), paste_back=paste_back,
            progress=_bar(progress), **motion)
    anchors = list(result.anchor_images) if result.anchor_images is not None else []
    notes = "; ".join(result.aligned.notes)
    info = serving.direction_meta(result.direction) + (f" — {notes}" if notes else "")
    return str(result.video), result.aligned.image, anchors, info


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


def transfer(predictor: Predictor, image, driving, strength, neutral, keep_fps, fps, size,
             side_by_side, paste_back, progress=gr.Progress()):
    """One motion-transfer request from the page → (video, how it was made)."""
    if image is None or not driving:
        raise gr.Error("Upload the photo whose face will move and a clip of the driving face.")
    with page_errors():
        result = serving.transfer_request(
            predictor.mm, predictor.outputs, image, driving, float(strength), int(neutral),
            None if keep_fps else float(fps), int(size), bool(side_by_side), paste_back,
            progress=_bar(progress))
    m = result.meta
    notes = "; ".join(m["notes"] + result.aligned.notes)
    return str(result.video), (f"{m['frames']} frames at {m['fps']:g} fps; motion layers "
                               f"{m['layers']} (energy share per layer {m['energy']})"
                               + (f" — {notes}" if notes else ""))


def latent_video(predictor: Predictor, mode, image, seeds, interpolation, per_segment, loop,
                 source_seed, radius, frames, truncation, fps, size, progress=gr.Progress()):
    """One latent-video request from the page → (video, how it was made)."""
    with page_errors():
        result = serving.interpolate_request(
            predictor.mm, predictor.outputs, mode, image, seeds, interpolation,
            int(per_segment), bool(loop), int(source_seed), float(radius), int(frames),
            float(truncation), float(fps), int(size), progress=_bar(progress))
    return str(result.video), serving.interpolation_meta(result.meta)


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


def _bar(progress: gr.Progress):
    return lambda stage, i, n: progress(i / max(n, 1), desc=stage)


def build(predictor: Predictor) -> gr.Blocks:
    with gr.Blocks(title="micromotion", delete_cache=(600, 3600)) as demo:
        gr.Markdown("# micromotion\nOne face photo → a video of that face moving: a published "
                    "micromotion, one you describe in words, or one you show in a clip."
                    + ("\n\n**Synthetic weights**: the models are random, so the video shows "
                       "abstract patterns, not faces." if predictor.mm.synthetic else ""))
        with gr.Tab("Micromotion"):
            micromotion_tab(predictor)
        with gr.Tab("Motion transfer"):
            transfer_tab(predictor)
        with gr.Tab("Latent videos"):
            latent_tab(predictor)
    return demo


def micromotion_tab(predictor: Predictor) -> None:
    with gr.Row():
        with gr.Column():
            image = gr.Image(type="filepath", label="Face photo", sources=["upload"])
            if EXAMPLES:
                gr.Examples(EXAMPLES, inputs=image, label="Example photos")
            source = gr.Radio(list(SOURCES), value="preset", label="Motion from")
            preset = gr.Dropdown(list(PRESETS), value="eyesClose", label="Micromotion")
            template = gr.Textbox("a person with {degree} smile", label="Text template "
                                  "(with {degree}; CLIP anchors take minutes on a CPU)")
            seed = gr.Number(0, precision=0, minimum=0, label="Anchor seed (text)")
            video = gr.Video(label="Anchor clip (≤ 60 s, one face)", sources=["upload"])
            strength = gr.Slider(1, 10, 5, step=1, label="Strength")
            frames = gr.Slider(2, serving.MAX_FRAMES, 100, step=1, label="Frames")
            curve = gr.Radio(list(CURVES), value="linear", label="Curve")
            fps = gr.Slider(1, serving.MAX_FPS, 30, step=1, label="Frames per second")
            size = gr.Dropdown(list(serving.OUTPUT_SIZES), value=1024, label="Size")
            cues = gr.Dataframe(TIMELINE_EXAMPLE, headers=TIMELINE_HEADERS, type="array",
                                label="Timeline (source: timeline): motion — a preset or "
                                      "text:… with {degree} — strength, start and end frame, "
                                      "curve", interactive=True)
            side = gr.Checkbox(False, label="Side by side with the photo")
            paste = gr.Radio(list(PASTE_BACK), value="auto",
                             label="Paste back into the photo (auto: if larger than the face)")
            button = gr.Button("Generate", variant="primary")
        with gr.Column():
            out_video = gr.Video(label="Micromotion", autoplay=True, loop=True)
            aligned = gr.Image(label="Aligned input", type="pil")
            anchors = gr.Gallery(label="Anchors", columns=6, height="auto")
            info = gr.Textbox(label="How it was made", interactive=False)
    button.click(functools.partial(generate, predictor),
                 [image, source, preset, template, seed, video, strength, frames, curve, fps,
                  size, side, paste, cues], [out_video, aligned, anchors, info],
                 api_name="generate", concurrency_limit=1)


def transfer_tab(predictor: Predictor) -> None:
    gr.Markdown("The photo's face performs the motion of a face in a clip, at the clip's "
                "timing — no training: the driver's motion, projected on its low-rank "
                "subspace, moves the layers that carry it.")
    with gr.Row():
        with gr.Column():
            image = gr.Image(type="filepath", label="Face photo", sources=["upload"])
            driving = gr.Video(label="Driving clip (one face, ≤ 10 s at 30 fps)",
                               sources=["upload"])
            strength = gr.Slider(0.1, 3, 1, step=0.1, label="Strength (1: the driver's own)")
            neutral = gr.Number(0, precision=0, minimum=0, label="Neutral frame of the driver")
            keep_fps = gr.Checkbox(True, label="Keep the driver's frame rate")
            fps = gr.Slider(1, serving.MAX_FPS, 30, step=1, label="Frame rate otherwise")
            size = gr.Dropdown(list(serving.OUTPUT_SIZES), value=1024, label="Render size")
            side = gr.Checkbox(False, label="Side by side with the photo")
            paste = gr.Radio(list(PASTE_BACK), value="auto", label="Paste back into the photo")
            button = gr.Button("Transfer the motion", variant="primary")
        with gr.Column():
            out_video = gr.Video(label="Transferred motion", autoplay=True, loop=True)
            info = gr.Textbox(label="How it was made", interactive=False)
    button.click(functools.partial(transfer, predictor),
                 [image, driving, strength, neutral, keep_fps, fps, size, side, paste],
                 [out_video, info], api_name="transfer", concurrency_limit=1)


def latent_tab(predictor: Predictor) -> None:
    gr.Markdown("Videos that need no motion: a **walk** through generated faces (seeds), "
                "**coarse** or **fine** style mixing (one face whose pose and expression, or "
                "hair and colours, follow a walk) and a **circle**, a seamless loop at an even "
                "pace. A photo, if given, starts the walk or is the face held or circled.")
    with gr.Row():
        with gr.Column():
            mode = gr.Radio(list(KINDS), value="walk", label="Kind")
            image = gr.Image(type="filepath", label="Face photo (optional)", sources=["upload"])
            seeds = gr.Textbox("1-4", label="Seeds (keyframes; a circle's plane: the first two)")
            method = gr.Radio(list(METHODS), value="cubic", label="Interpolation (walks)")
            per_segment = gr.Slider(1, 120, 30, step=1, label="Frames per segment")
            loop = gr.Checkbox(False, label="Loop back to the first keyframe")
            source_seed = gr.Number(0, precision=0, minimum=0,
                                    label="Face held or circled (seed, without a photo)")
            radius = gr.Slider(0.1, 3, 1, step=0.1, label="Circle radius")
            frames = gr.Slider(2, serving.MAX_FRAMES, 120, step=1, label="Circle frames")
            truncation = gr.Slider(0, 1, 0.7, step=0.05, label="Truncation")
            fps = gr.Slider(1, serving.MAX_FPS, 30, step=1, label="Frames per second")
            size = gr.Dropdown(list(serving.OUTPUT_SIZES), value=1024, label="Size")
            button = gr.Button("Make the video", variant="primary")
        with gr.Column():
            out_video = gr.Video(label="Latent video", autoplay=True, loop=True)
            info = gr.Textbox(label="How it was made", interactive=False)
    button.click(functools.partial(latent_video, predictor),
                 [mode, image, seeds, method, per_segment, loop, source_seed, radius, frames,
                  truncation, fps, size], [out_video, info],
                 api_name="latent_video", concurrency_limit=1)


def main() -> None:
    predictor = Predictor()
    predictor.setup()
    build(predictor).queue(default_concurrency_limit=1).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))


if __name__ == "__main__":
    main()
