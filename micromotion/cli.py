"""``python -m micromotion``: the command line door. Errors a user can cause exit with code 2
and one sentence; progress goes to stderr through tqdm."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

import stylegan2

from . import render
from .anchors import DEFAULT_DEGREES, prompts_from_template
from .direction import PRESETS
from .errors import MicromotionError
from .interpolate import KINDS, METHODS, LatentVideo, check_video
from .samples import parse_seeds, render_seeds
from .timeline import parse_cues

DEFAULT_CHECKPOINT = "weights/stylegan2-ffhq-config-f.pt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m micromotion",
                                     description="Animate faces with StyleGAN2 micromotions.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="render faces from seeds with the StyleGAN2 generator")
    s.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT,
                   help=f"generator checkpoint (default {DEFAULT_CHECKPOINT})")
    s.add_argument("--synthetic", action="store_true",
                   help="use a seeded synthetic 256px generator (abstract patterns, not faces)")
    s.add_argument("--seeds", default="0-3", help="e.g. 0-3 or 1,5,9 (default 0-3)")
    s.add_argument("--truncation", type=float, default=0.7, help="0 < t ≤ 1 (default 0.7)")
    s.add_argument("--size", type=int, default=None, help="output size (power of two ≤ the generator's)")
    s.add_argument("--out", default="outputs", help="output folder (default outputs)")

    models, anchors, output = _models_options(), _anchor_options(), _output_options()
    a = sub.add_parser("animate", parents=[models, anchors, output],
                       help="photo + motion (preset, file, text or video) → mp4 of the face moving")
    a.add_argument("photo", help="a photo with a face (JPEG, PNG, …)")
    a.add_argument("--motion", default=None,
                   help=f"a preset ({', '.join(PRESETS)}) or a direction file (default eyesClose)")
    a.add_argument("--strength", type=float, default=5.0, help="scale of the motion (default 5)")
    a.add_argument("--fps", type=float, default=30, help="frames per second (default 30)")
    a.add_argument("--compose", action="append", default=None, metavar="CUE",
                   help="a timeline instead of one motion, cue by cue: "
                        "MOTION[:STRENGTH][:START-END][:CURVE], e.g. --compose smile:5:0-40:ease "
                        "--compose headsTurn:3:40-99 (MOTION: a preset, a file, text:TEMPLATE, "
                        "video:CLIP)")
    a.add_argument("--gif", default=None, help="also write a GIF here")
    a.add_argument("--out", default=None, help="output mp4 (default outputs/<photo>-<motion>.mp4)")
    a.add_argument("--save-direction", default=None,
                   help="also keep the direction made from --text or --video in this file")
    d = sub.add_parser("direction", parents=[models, anchors],
                       help="text or video → a direction file (and a strip of its anchors)")
    d.add_argument("--out", required=True, help="the direction file to write (e.g. smile.pt)")
    d.add_argument("--labels", default=None,
                   help="labelled latents (.npz with latents and labels, or .csv: label, latent…)")
    d.add_argument("--estimator", default="pairs", choices=["pairs", "classifier"],
                   help="for --labels: mean pair slope or logistic-regression normal")
    t = sub.add_parser("transfer", parents=[models, output],
                       help="a driving clip's motion, at its timing, onto the face of a photo")
    t.add_argument("photo", help="the target: a photo with a face")
    t.add_argument("driving", help="a clip of one face moving, or a photo of the driver "
                                   "mid-motion (with --neutral-image)")
    t.add_argument("--neutral", type=int, default=0,
                   help="the driver's frame at rest: offsets are taken from it (default 0)")
    t.add_argument("--neutral-image", default=None,
                   help="with a driving photo: a photo of the same driver at rest")
    t.add_argument("--strength", type=float, default=1.0, help="scale of the motion (default 1)")
    t.add_argument("--rank", type=int, default=4, help="rank of the motion subspace (default 4)")
    t.add_argument("--layers", default=None,
                   help="W+ layers that carry the motion, e.g. 0-7 (default: those holding "
                        "90%% of its energy)")
    t.add_argument("--smoothing", type=float, default=1.0,
                   help="Gaussian σ over time in frames against inversion jitter (default 1; 0 off)")
    t.add_argument("--fps", type=float, default=None,
                   help="frame rate of the output (default the driver's; its timing is kept)")
    t.add_argument("--max-frames", type=int, default=1000, help="most driving frames (default 1000)")
    t.add_argument("--out", default=None, help="output mp4 (default outputs/<photo>-transfer.mp4)")

    i = sub.add_parser("interpolate", parents=[models],
                       help="latent videos: a walk through seeds or photos, coarse or fine "
                            "style mixing, an equal-step circular loop")
    i.add_argument("kind", choices=KINDS, help="walk, coarse or fine (style mixing), circle")
    i.add_argument("--seeds", default=None,
                   help="keyframes of the walk (also for mixing), e.g. 1-4 or 3,8,21; for a "
                        "circle its first two give the plane (default 1-4; none with --photos)")
    i.add_argument("--photos", nargs="+", default=[],
                   help="walk keyframes from photos (inverted), before any seeds")
    i.add_argument("--source", default="0",
                   help="the held face (coarse, fine) or the circle's centre: a seed or a photo "
                        "(default seed 0)")
    i.add_argument("--method", default="cubic", choices=METHODS,
                   help="cubic through W+ (seeds and photos) or slerp in z (seeds)")
    i.add_argument("--frames-per-segment", type=int, default=30,
                   help="frames from one keyframe to the next (default 30)")
    i.add_argument("--loop", action="store_true", help="walk back to the first keyframe")
    i.add_argument("--layers", default=None,
                   help="W+ layers that move, e.g. 0-3 (default: coarse 0-3, fine 8-17, "
                        "walk and circle all)")
    i.add_argument("--radius", type=float, default=1.0,
                   help="circle radius; 1 reaches about as far as the seeds' faces (default 1)")
    i.add_argument("--frames", type=int, default=120, help="circle frames (default 120)")
    i.add_argument("--truncation", type=float, default=0.7, help="for seeds (default 0.7)")
    i.add_argument("--measure-res", type=int, default=64,
                   help="circle: size at which consecutive frames are compared (default 64)")
    i.add_argument("--fps", type=float, default=30, help="frames per second (default 30)")
    i.add_argument("--size", type=int, default=None, help="output size: 1024 (default), 512, 256")
    i.add_argument("--gif", default=None, help="also write a GIF here")
    i.add_argument("--out", default=None, help="output mp4 (default outputs/<kind>.mp4)")
    args = parser.parse_args(argv)
    try:
        if args.command == "sample":
            return _sample(args)
        if args.command == "interpolate":
            return _interpolate(args)
        if args.command == "transfer":
            return _transfer(args)
        _check_motion_choice(args)
        return _animate(args) if args.command == "animate" else _direction(args)
    except (MicromotionError, stylegan2.CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _models_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--encoder", default="restyle_psp", choices=["restyle_psp", "restyle_e4e", "e4e"])
    p.add_argument("--weights", default=None, help="weights folder (default $MICROMOTION_WEIGHTS or weights/)")
    p.add_argument("--bf16", action="store_true", help="bf16 on the CPU: ~2× faster, ~1 level of error")
    p.add_argument("--no-fetch", action="store_true",
                   help="never download missing weights (default: fetch them on first use)")
    p.add_argument("--synthetic", action="store_true",
                   help="synthetic weights (abstract patterns, not faces): try the whole path offline")
    return p


def _output_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--frames", type=int, default=100,
                   help="frame count (default 100; a transfer from a clip has the clip's)")
    p.add_argument("--curve", default="linear", choices=render.CURVES,
                   help="linear (the original), ease (in-out) or loop (there and back)")
    p.add_argument("--size", type=int, default=None, help="render size: 1024 (default), 512, 256")
    p.add_argument("--side-by-side", action="store_true", help="the photo beside the motion")
    p.add_argument("--paste-back", default="auto", choices=["auto", "on", "off"],
                   help="put the moving face back into the photo (auto: when the photo is "
                        "larger than the face's crop)")
    return p


def _anchor_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--text", default=None,
                   help="anchors from CLIP: a template with {degree}, e.g. 'a person with {degree} smile'")
    p.add_argument("--degrees", default=",".join(DEFAULT_DEGREES),
                   help="comma-separated degrees for --text (default no,10%%,…,100%%)")
    p.add_argument("--seed", type=int, default=0, help="the anchor face of --text (default 0)")
    p.add_argument("--steps", type=int, default=40, help="optimisation steps per degree (default 40)")
    p.add_argument("--loss-res", type=int, default=256,
                   help="image size the CLIP/identity losses see (default 256; 1024 = full)")
    p.add_argument("--video", default=None, help="anchors from a short clip of one face doing the motion")
    p.add_argument("--max-frames", type=int, default=16, help="frames taken from --video (default 16)")
    p.add_argument("--rank", type=int, default=4, help="rank of the motion subspace (default 4)")
    return p


def _check_motion_choice(args) -> None:
    given = [f"--{k}" for k in ("motion", "text", "video", "labels", "compose")
             if getattr(args, k, None)]
    if len(given) > 1:
        raise ValueError(f"give one of --motion, --text, --video, --labels or --compose, not "
                         f"{' and '.join(given)}")
    if args.command == "direction" and not given:
        raise ValueError("give --text 'a person with {degree} smile', --video CLIP or "
                         "--labels FILE")
    if args.text:  # cheap checks first: loading the models takes seconds
        prompts_from_template(args.text, _degrees(args))
    if args.video and not Path(args.video).is_file():
        raise ValueError(f"video {args.video} not found")


def _degrees(args) -> list[str]:
    return [d.strip() for d in args.degrees.split(",") if d.strip()]


def _load(args):
    import torch

    from .pipeline import Micromotion
    if args.synthetic:
        print("note: synthetic weights (seeded random models): the video shows abstract "
              "patterns, not faces", file=sys.stderr)
        mm = Micromotion.synthetic_models(args.weights, fetch=not args.no_fetch)
    else:
        with _bars("B") as progress:
            mm = Micromotion.load(args.weights, args.encoder, fetch=not args.no_fetch,
                                  progress=progress)
    mm.dtype = torch.bfloat16 if args.bf16 else None
    return mm


@contextlib.contextmanager
def _bars(unit: str = "step"):
    """A ``progress(stage, done, total)`` callback drawing one tqdm bar per stage (per file,
    with ``unit="B"``)."""
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        bar = bars.get(stage)
        if bar is None or bar.total != total:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=unit,
                                     unit_scale=unit == "B", initial=done)
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def _motion_spec(args):
    """The --text or --video motion as the pipeline's ``TextMotion``/``VideoMotion``."""
    from .pipeline import TextMotion, VideoMotion
    if args.text:
        return TextMotion(args.text, _degrees(args), args.seed, args.steps, args.rank, args.loss_res)
    return VideoMotion(args.video, args.max_frames, args.rank)


def _save_direction(d, images, path) -> None:
    """The direction file, and beside it a strip of the anchor images (``<name>.anchors.png``)."""
    from .direction import save_direction
    save_direction(path, d.vector, d.meta)
    print(path)
    if images is not None:
        strip = Path(path).with_suffix(".anchors.png")
        Image.fromarray(np.concatenate(list(images), axis=1)).save(strip)
        print(strip)


def _animate(args) -> int:
    if not Path(args.photo).is_file():  # before loading (or fetching) any weights
        raise ValueError(f"photo {args.photo} not found")
    cues = parse_cues("\n".join(args.compose)) if args.compose else None
    mm = _load(args)
    made = bool(args.text or args.video)
    motion = cues or (_motion_spec(args) if made else (args.motion or "eyesClose"))
    name = "timeline" if cues else ("text" if args.text else Path(args.video).stem) if made \
        else (Path(motion).stem if Path(motion).suffix else motion)
    out = Path(args.out or f"outputs/{Path(args.photo).stem}-{name}.mp4")
    with _bars() as progress:
        result = mm.animation(args.photo, motion, out, args.strength, args.frames, args.fps,
                              args.curve, args.size, args.side_by_side, args.gif,
                              paste_back=_paste_back(args), progress=progress)
    if made and args.save_direction:
        _save_direction(result.direction, result.anchor_images, args.save_direction)
    print(result.video)
    return 0


def _paste_back(args) -> bool | None:
    return {"auto": None, "on": True, "off": False}[args.paste_back]


def _transfer(args) -> int:
    for path in (args.photo, args.driving, args.neutral_image):
        if path and not Path(path).is_file():  # before loading (or fetching) any weights
            raise ValueError(f"{path} not found")
    layers = parse_seeds(args.layers, "layers") if args.layers else None
    mm = _load(args)
    out = Path(args.out or f"outputs/{Path(args.photo).stem}-transfer.mp4")
    with _bars() as progress:
        result = mm.transfer(args.photo, args.driving, out,
                             args.neutral_image or args.neutral, args.strength, args.rank,
                             layers, args.smoothing, args.fps, args.size, _paste_back(args),
                             args.side_by_side, args.frames, args.curve, args.max_frames,
                             progress=progress)
    meta = result.meta
    print(f"motion layers {meta['layers']} (energy share per layer: {meta['energy']})",
          file=sys.stderr)
    for note in meta["notes"]:
        print(f"note: {note}", file=sys.stderr)
    print(result.video)
    return 0


def _direction(args) -> int:
    if args.labels:  # no models needed: the latents are given
        from .labels import direction_from_labels, load_labelled
        _save_direction(direction_from_labels(*load_labelled(args.labels), args.estimator),
                        None, args.out)
        return 0
    mm = _load(args)
    with _bars() as progress:
        d, a = mm.direction_from(_motion_spec(args), progress)
    _save_direction(d, a.images, args.out)
    return 0


def _interpolate(args) -> int:
    seeds = parse_seeds(args.seeds) if args.seeds else [] if args.photos else [1, 2, 3, 4]
    source = int(args.source) if args.source.isdigit() else args.source
    for photo in args.photos + ([] if isinstance(source, int) else [source]):
        if not Path(photo).is_file():  # before loading (or fetching) any weights
            raise ValueError(f"photo {photo} not found")
    layers = parse_seeds(args.layers, "layers") if args.layers else None
    video = LatentVideo(args.kind, seeds, args.photos, source, args.method,
                        args.frames_per_segment, args.loop, layers, args.radius, args.frames,
                        args.truncation, args.measure_res)
    check_video(video)  # the FFHQ generator's layers and size, before loading it
    mm = _load(args)
    with _bars() as progress:
        result = mm.interpolation(video, Path(args.out or f"outputs/{args.kind}.mp4"), args.fps,
                                  args.size, args.gif, progress=progress)
    print(result.video)
    return 0


def _sample(args) -> int:
    seeds = parse_seeds(args.seeds)
    if not 0 < args.truncation <= 1:
        raise ValueError(f"--truncation must be in (0, 1], got {args.truncation}")
    if args.synthetic:
        gen, label = stylegan2.synthetic_generator(size=256, style_dim=512, n_mlp=8), "synthetic"
    elif not Path(args.checkpoint).is_file():
        raise ValueError(f"generator checkpoint {args.checkpoint} not found: put "
                         f"stylegan2-ffhq-config-f.pt there (size and sha256 in "
                         f"weights/manifest.json), pass --checkpoint PATH, or try --synthetic")
    else:
        gen, label = stylegan2.load_generator(args.checkpoint), "seed"
    if args.size is not None and args.size not in [2 ** i for i in range(2, gen.size.bit_length())]:
        raise ValueError(f"--size must be a power of two from 4 to {gen.size}, got {args.size}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(seeds), desc="rendering", unit="face") as bar:
        images = render_seeds(gen, seeds, args.truncation, args.size,
                              progress=lambda i, n: bar.update(1))
    for seed, img in zip(seeds, images):
        path = out / f"{label}{seed:04d}.png"
        Image.fromarray(img).save(path)
        print(path)
    return 0
