"""Every input a request can take, defined once: its type, default, limits or choices, unit,
help sentence and the doors that show it. Cog's inputs (spelt out literally in ``predict.py``
and held to this table by a test), the page's widgets and the CLI's options all derive from it,
and ``Field.check`` is the one check of a value — so each limit lives here and nowhere else.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .field import Field

PRESETS = ("smile", "angry", "aging", "eyesClose", "headsTurn")  # the published directions
KINDS = ("walk", "coarse", "fine", "circle")  # latent videos
USES = ("animate", "transfer", "latent", "direction", "sample", "edit")  # a CLI command's or
# page tab's
A, T, L, D, E = "animate", "transfer", "latent", "direction", "edit"
WALKS = ("walk", "coarse", "fine")  # the latent videos that walk through keyframes


SEED_MAX = 2 ** 32 - 1
MAX_FRAMES = 300  # a video's, and so a driving clip's, most frames
MAX_EDIT_FRAMES = 600  # the most frames of a video to edit (20 s at 30 fps); an operator sets
# another with MICROMOTION_EDIT_FRAMES (the work budget still bounds the whole request)
MAX_CUES = 16  # a timeline's most cues
MAX_CUE_SCALE = 40.0  # its cues' summed scale: four motions at full scale (10)
MAX_FACES = 8  # the most faces one request moves; an operator sets another with
# MICROMOTION_FACES
MAX_TUNED_PHOTOS = 4  # fidelity faithful tunes to every photo at once, each a pivot of one batch
WORK_BUDGET = 900.0  # s of work one request may cost here (``budget``), by the plan's own
# timings of this machine: 15 minutes, as the longest documented driver (300 frames inverted
# warm, rendered at 1024 px: about 6 min estimated on a 2-core AMD EPYC, Zen 3, AVX2) must pass
# on every CPU CI runs on; MICROMOTION_WORK_BUDGET sets another (0: no bound)
MAX_FILE_MB = 200  # a file input's most bytes (MB): a minute of 4K phone video; the page's
# uploads and Cog's received files alike
_FIELDS = [
    # -- Replicate's inputs first, in Cog's order ------------------------------------------
    Field("image", Path, None, "A photo with a face (JPEG, PNG, WebP, ...); for the latent "
          "videos optional: the walk's first keyframe, the held face or the circle's centre.",
          "Face photo", role="the photo", cli=(L,), page=dict.fromkeys((A, T, L), "main"),
          accept="image", words={
              "animate": "A photo with a face (JPEG, PNG, WebP, ...).",
              "transfer": "The photo whose face will move (JPEG, PNG, WebP, ...).",
              "latent": "Optional: a photo whose face is the walk's first keyframe, the held "
                        "face (coarse, fine) or the circle's centre."}),
    Field("micromotion", str, "eyesClose", "The motion: one of the published directions.",
          "Micromotion", choices=PRESETS, cli=(A, E), page=dict.fromkeys((A, E), "preset")),
    Field("scale", int, 5, "How far the face moves: 5 is the motion's usual amount (the "
          "published one; with a driving video, the driver's own), 10 twice it.", "Scale", 1,
          10, cli=(A, T, E), page={A: "scale", T: "main", E: "scale"}, words={
              **dict.fromkeys((A, E), "How far the face moves: 5 is the motion's usual "
                                      "amount (the published one), 10 twice it."),
              "transfer": "How far the face moves: 5 is the driver's own motion, 10 twice it."}),
    Field("text_template", str, "", "Or describe your own motion with {degree}, e.g. 'a "
          "person with {degree} smile' (anchors from CLIP; takes minutes).", "Text template",
          chars=1000, cli=(A, D, E), page=dict.fromkeys((A, E), "text")),
    Field("anchor_seed", int, 0, "The generated face the text anchors start from.",
          "Anchor seed", 0, SEED_MAX, cli=(A, D, E), page=dict.fromkeys((A, E), "text")),
    Field("anchor_video", Path, None, "Or show the motion: a short clip (at most 60 s) of "
          "one face doing it.", "Anchor clip", role="the anchor clip", cli=(A, D, E),
          page=dict.fromkeys((A, E), "video"), accept="video"),
    Field("direction_file", Path, None, "Or a direction file made with python -m "
          "micromotion direction.", "Direction file", role="the direction file", cli=(A, E),
          page=dict.fromkeys((A, E), "file"), accept="file"),
    Field("frames", int, 100, "Number of frames of the video (a circle's too).", "Frames",
          2, MAX_FRAMES, cli=(A, T, L), page=dict.fromkeys((A, L), "more"), kinds=("circle",),
          words={
              "animate": "Number of frames of the video.",
              "transfer": "With a driving photo and its neutral: number of frames of the video "
                          "(a clip gives its own).",
              "latent": "Circle: number of frames of the loop (a walk's follow from its "
                        "keyframes)."}),
    Field("fps", int, 30, "Frames per second of the video (a motion transfer reads its "
          "driving clip at this rate, keeping its timing).", "Frames per second", 1, 60,
          unit="fps", cli=(A, T, L), page=dict.fromkeys((A, T, L), "more"), words={
              "animate": "Frames per second of the video.",
              "transfer": "Frames per second the driving clip is read at, keeping its timing "
                          "(default: the clip's own).",
              "latent": "Frames per second of the video."}),
    Field("curve", str, "linear", "How the motion unfolds: linear (the original), ease "
          "(in-out) or loop (there and back).", "Curve", choices=("linear", "ease", "loop"),
          cli=(A, T), page={A: "more"}),
    Field("output_size", int, 1024, "Size in pixels the face is rendered at; when pasted "
          "back the video has the photo's size instead.", "Size",
          choices=(1024, 512, 256, 128, 64), unit="px", cli=(A, T, L, E),
          page=dict.fromkeys((A, T, L, E), "more"),
          # the page starts at 512: a 1024 px photo's first video in seconds on a 2-core CPU,
          # not minutes; full size is one choice away (Replicate keeps its 1024)
          page_default=512, named={1024: "1024 · full size", 512: "512 · the page's default",
                                   256: "256 · a fast preview"}, words={
              E: "The most pixels the face is rendered at: it is rendered at the size it "
                 "fills in the video's frames, up to this."}),
    Field("side_by_side", bool, False, "Put the photo beside the motion.", "Side by side",
          cli=(A, T), page=dict.fromkeys((A, T), "more")),
    Field("timeline", str, "", "Or compose motions: cues MOTION:SCALE:START-END:CURVE, "
          "START and END in percent of the video (f0-f12: frames), e.g. 'smile:5:0-40:ease; "
          "headsTurn:3:40-100' (MOTION a preset, or text:... with {degree}).", "Timeline",
          chars=4000, items=MAX_CUES, cli=(A, E), page=dict.fromkeys((A, E), "timeline")),
    Field("driving_video", Path, None, "Motion transfer: a clip of one face; the photo's "
          "face performs its motion at its timing.", "Driving clip",
          role="the driving clip", page={T: "main"}, accept="video"),
    Field("video", Path, None, "Or edit your own video: the face in it makes the motion over "
          "the seconds in span, its sound kept (image is then not needed).", "Your video",
          role="the video", page={E: "main"}, accept="video"),
    Field("span", str, "", "With video: when the face moves, START-END in seconds, e.g. 2-5 "
          "(empty: the whole video); it eases in and out over about half a second.", "Span",
          chars=40, cli=(E,), page={E: "main"}),
    Field("paste_back", str, "auto", "Put the moving face back into the photo (auto: when "
          "the photo is larger than the face's crop).", "Paste back into the photo",
          choices=("auto", "on", "off"), cli=(A, T), page=dict.fromkeys((A, T), "more")),
    Field("faces", str, "one", "Which faces move in a photo of several people: one (the most "
          "confident), all, or their numbers from the left, e.g. 1,3.", "Faces", chars=100,
          cli=(A, T, E, L), page={A: "main", T: "main", E: "main"}, kinds=("coarse", "fine"),
          words={
              E: "Which faces move in a video of several people: one (the most prominent), "
                 "all, or their numbers from the left in the span's first frame, e.g. 1,3.",
              L: "Coarse and fine style mixing of a photo of several people: which faces are "
                 "mixed — one, all, or their numbers from the left, e.g. 1,3."}),
    Field("blend", str, "change", "With video: how the moved face goes into each frame — "
          "change adds only what the motion changes to the frame's own pixels (the person's "
          "own detail kept), face puts the rendered face in (with fidelity faithful).",
          "Blend", choices=("change", "face"), cog=False, cli=(E,), page={E: "more"}),
    Field("dtype", str, "auto", "Precision: auto (the fastest path verified on this machine "
          "at start-up), fp32, or bf16 (about 1 level of 255 off; refused where this machine "
          "cannot run it).",
          "Precision", choices=("auto", "fp32", "bf16"), cli=(A, D, T, L, E),
          page=dict.fromkeys((A, T, L, E), "more")),
    Field("fidelity", str, "fast", "fast: the encoder's inversion, at times a look-alike. "
          "faithful: the generator is tuned to the photo first (pivotal tuning), so the video "
          "keeps the person; minutes on a CPU, seconds on a GPU.", "Fidelity",
          choices=("fast", "faithful"), cli=(A, T, L, E), page=dict.fromkeys((A, T, L, E), "more"),
          words={"latent": "With photos, faithful tunes the generator to them first (pivotal "
                           "tuning), so the video keeps their people; minutes on a CPU."}),
    Field("mode", str, "animate", "animate: the photo's face does the micromotion. Latent "
          "videos: walk (through seeds), coarse or fine (style mixing), circle (an "
          "equal-step loop).", "Kind", choices=("animate",) + KINDS, page={L: "main"}),
    Field("seeds", str, "1-4", "Latent videos: the walk's keyframe seeds, e.g. 1-4 or "
          "3,8,21 (a circle's plane: the first two).", "Seeds", chars=2000, items=MAX_FRAMES,
          cli=(L,), page={L: "main"},
          words={"latent": "The keyframes' seeds, e.g. 1-4 or 3,8,21 (a circle's plane: the "
                           "first two)."}),
    Field("interpolation", str, "cubic", "Walks: cubic (through W+) or slerp (in z).",
          "Interpolation", choices=("cubic", "slerp"), cli=(L,), page={L: "more"}, kinds=WALKS,
          words={"latent": "Between keyframes: cubic (through W+) or slerp (in z)."}),
    Field("frames_per_segment", int, 30, "Walks: frames from one keyframe to the next.",
          "Frames per segment", 1, 300, cli=(L,), page={L: "more"}, kinds=WALKS,
          words={"latent": "Frames from one keyframe to the next."}),
    Field("loop", bool, False, "Walks: back to the first keyframe.", "Loop", cli=(L,),
          page={L: "more"}, kinds=WALKS,
          words={"latent": "Back to the first keyframe at the end."}),
    Field("source_seed", int, 0, "Mixing and circle without a photo: the face held or "
          "circled.", "Source seed", 0, SEED_MAX, cli=(L,), page={L: "more"},
          kinds=("coarse", "fine", "circle")),
    Field("radius", float, 1.0, "Circle: 1 reaches about as far as the seeds' faces.",
          "Radius", 0, 10, cli=(L,), page={L: "more"}, kinds=("circle",)),
    Field("truncation", float, 0.7, "Latent videos: truncation of the seeds' faces.",
          "Truncation", 0, 1, cli=(L, "sample"), page={L: "more"},
          words=dict.fromkeys(("sample", "latent"), "Truncation of the "
                                                  "seeds' faces (0: the average face; 1: the "
                                                  "full variety).")),
    # -- text and clip anchors (CLI) ----------------------------------------------------------
    Field("degrees", str, "no,10%,20%,30%,40%,50%,60%,70%,80%,90%,100%", "The degrees put "
          "into the text template, comma-separated.", "Degrees", cog=False, cli=(A, D, E),
          chars=1000, items=32),
    Field("steps", int, 40, "Optimisation steps per degree of the text anchors.", "Steps",
          1, 1000, cog=False, cli=(A, D, E)),
    Field("loss_res", int, 256, "Image size the CLIP and identity losses see.", "Loss size",
          choices=(1024, 512, 256, 128, 64, 32), unit="px", cog=False, cli=(A, D, E)),
    Field("anchor_frames", int, 16, "Frames taken from the anchor clip.", "Anchor frames",
          2, 64, cog=False, cli=(A, D, E)),
    Field("rank", int, 4, "Rank of the motion subspace.", "Rank", 1, 64, cog=False,
          cli=(A, D, T, E)),
    # -- motion transfer (page, CLI) ----------------------------------------------------------
    Field("neutral_frame", int, 0, "The driver's frame at rest: the motion is taken from it.",
          "Neutral frame", 0, MAX_FRAMES - 1, cog=False, cli=(T,), page={T: "more"}),
    Field("neutral_image", Path, None, "With a driving photo: the same driver at rest.",
          "Neutral photo", cog=False, cli=(T,), role="the neutral photo"),
    Field("driving_image", Path, None, "With neutral_image: a photo of the driver "
          "mid-motion.", "Driving photo", cog=False, role="the driving photo"),
    Field("layers", str, "", "W+ layers that carry the motion, e.g. 0-7 (empty: those "
          "holding 90% of its energy; latent videos: the kind's own).", "Layers",
          cog=False, cli=(T, L), chars=200),
    Field("smoothing", float, 1.0, "Gaussian smoothing over time against inversion jitter, "
          "in frames (0: off).", "Smoothing", 0, 30, unit="frames", cog=False,
          cli=(T,)),
    # -- latent videos (CLI) ------------------------------------------------------------------
    Field("photos", Path, None, "Walk keyframes from more photos, after the first.",
          "More photos", cog=False, cli=(L,), role="a keyframe photo"),
    Field("measure_res", int, 64, "Circle: the size at which consecutive frames are "
          "compared.", "Measure size", choices=(16, 32, 64, 128, 256), unit="px",
          cog=False, cli=(L,)),
]
FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}


def cli_options(use: str) -> list[Field]:
    """The options of the CLI command for ``use``, in the table's order."""
    return [f for f in _FIELDS if use in f.cli]


def page_group(use: str, group: str) -> list[Field]:
    """The widgets of the page's tab for ``use`` that stand in ``group``, in the table's
    order."""
    return [f for f in _FIELDS if f.page.get(use) == group]


def check(name: str, value: Any, **how) -> Any:
    """``FIELDS[name].check(value, **how)``."""
    return FIELDS[name].check(value, **how)
