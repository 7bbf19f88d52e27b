"""``python -m micromotion``: the command line door. Errors a user can cause exit with code 2
and one sentence; progress goes to stderr through tqdm."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

import stylegan2

from . import render
from .direction import PRESETS
from .errors import MicromotionError
from .samples import parse_seeds, render_seeds

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
    a = sub.add_parser("animate", help="photo + motion → mp4 of the face moving")
    a.add_argument("photo", help="a photo with a face (JPEG, PNG, …)")
    a.add_argument("--motion", default="eyesClose",
                   help=f"a preset ({', '.join(PRESETS)}) or a direction file (default eyesClose)")
    a.add_argument("--strength", type=float, default=5.0, help="scale of the motion (default 5)")
    a.add_argument("--frames", type=int, default=100, help="frame count (default 100)")
    a.add_argument("--fps", type=float, default=30, help="frames per second (default 30)")
    a.add_argument("--curve", default="linear", choices=render.CURVES,
                   help="linear (the original), ease (in-out) or loop (there and back)")
    a.add_argument("--size", type=int, default=None, help="output size: 1024 (default), 512, 256")
    a.add_argument("--side-by-side", action="store_true", help="the aligned photo beside the motion")
    a.add_argument("--gif", default=None, help="also write a GIF here")
    a.add_argument("--out", default=None, help="output mp4 (default outputs/<photo>-<motion>.mp4)")
    a.add_argument("--encoder", default="restyle_psp", choices=["restyle_psp", "restyle_e4e", "e4e"])
    a.add_argument("--weights", default=None, help="weights folder (default $MICROMOTION_WEIGHTS or weights/)")
    a.add_argument("--bf16", action="store_true", help="bf16 on the CPU: ~2× faster, ~1 level of error")
    a.add_argument("--synthetic", action="store_true",
                   help="synthetic weights (abstract patterns, not faces): try the whole path offline")
    args = parser.parse_args(argv)
    try:
        return _sample(args) if args.command == "sample" else _animate(args)
    except (MicromotionError, stylegan2.CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _animate(args) -> int:
    import torch

    from .pipeline import Micromotion
    mm = Micromotion.synthetic_models(args.weights) if args.synthetic else \
        Micromotion.load(args.weights, args.encoder)
    mm.dtype = torch.bfloat16 if args.bf16 else None
    motion_name = Path(args.motion).stem if Path(args.motion).suffix else args.motion
    out = Path(args.out or f"outputs/{Path(args.photo).stem}-{motion_name}.mp4")
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage) or bars.setdefault(stage, tqdm(total=total, desc=stage, unit="step"))
        bar.update(done - bar.n)

    try:
        path = mm.animate(args.photo, args.motion, out, args.strength, args.frames, args.fps,
                          args.curve, args.size, args.side_by_side, args.gif, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    print(path)
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
