"""``python -m micromotion``: the command line door. Errors a user can cause exit with code 2
and one sentence; progress goes to stderr through tqdm."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

import stylegan2

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
    args = parser.parse_args(argv)
    try:
        return _sample(args)
    except (ValueError, stylegan2.CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


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
