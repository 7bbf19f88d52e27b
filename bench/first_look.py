"""Seconds to a first look and to the video, for each motion source at the page's defaults
(its examples' photo and clip, the synthetic weights the page serves with them: 1024 px,
18 × 512), served as the doors serve them, beside what the page said it would take (its cost
line: the work budget's estimate). ``--photo closeup``: a 1024 px photo the face fills (the
astronaut's face, cropped and enlarged); ``--size``: the most the face is rendered at (the
page's default; 1024 was its default before). Run it against another checkout to compare.

    .venv/bin/python bench/first_look.py [--sources preset words clip transfer latent]
                                         [--photo astronaut|closeup] [--size 1024]
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from micromotion.doors import serving  # noqa: E402
from micromotion.fields import FIELDS  # noqa: E402
from micromotion.requests.budget import expected  # noqa: E402
from micromotion.nets.models import Models  # noqa: E402
from micromotion.requests.request import (Animate, Edit, LatentVideo, Transfer,  # noqa: E402
                                         file_name)

PHOTO, CLIP = str(ROOT / "examples" / "astronaut.jpg"), str(ROOT / "examples" / "drive.mp4")
SOURCES = {
    "preset": lambda photo, size: Animate(photo, "smile", output_size=size),
    "words": lambda photo, size: Animate(photo, text_template="a person with {degree} smile",
                                         output_size=size),
    "clip": lambda photo, size: Animate(photo, anchor_video=CLIP, output_size=size),
    "transfer": lambda photo, size: Transfer(photo, CLIP, output_size=size),
    "latent": lambda photo, size: LatentVideo("walk", seeds="1-4", output_size=size),
    "edit": lambda photo, size: Edit(CLIP, "smile", output_size=size),  # the clip, edited
}


def closeup(folder: Path) -> str:
    """A 1024 px photo its face fills: the astronaut's face and hair, enlarged."""
    path = folder / "closeup.jpg"
    Image.open(PHOTO).crop((120, 0, 370, 250)).resize((1024, 1024), Image.LANCZOS).save(
        path, quality=95)
    return str(path)


def timed(models: Models, req) -> tuple[float, str, float, str, float]:
    """Seconds to the first preview and what it showed, to the first look at what the work
    makes (anchors, a clip's faces, the frames: past the photo's face) and what, and to the
    video."""
    seen: list[tuple[float, str]] = []
    start = time.perf_counter()

    def preview(g, *_):  # a glimpse; older checkouts hand the frames alone
        seen.append((time.perf_counter() - start, getattr(g, "what", "frames")))

    with tempfile.TemporaryDirectory() as folder:
        serving.serve(req, models, Path(folder) / file_name(req), preview=preview)
    made = next(s for s in seen if s[1] != "face")
    return *seen[0], *made, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", nargs="+", choices=list(SOURCES), default=list(SOURCES))
    ap.add_argument("--photo", choices=("astronaut", "closeup"), default="astronaut")
    ap.add_argument("--size", type=int, default=FIELDS["output_size"].on_page)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    photo = closeup(folder) if args.photo == "closeup" else PHOTO
    models = Models.synthetic(ROOT.parent / "shared" / "reference")
    begun = time.perf_counter()
    plan = models.plan.resolve("auto").note
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads; "
          f"plan {time.perf_counter() - begun:.1f} s; {plan}\n")
    print(f"{args.photo} photo, the face rendered at up to {args.size} px\n")
    print(f"{'source':<10} {'first look':>11}  {'(what)':<8} {'the work':>9}  {'(what)':<8} "
          f"{'video':>8} {'said':>8}")
    for name in args.sources:
        req = SOURCES[name](photo, args.size)
        cost = expected(req, models)
        first, what, work, made, video = timed(models, req)
        print(f"{name:<10} {first:>10.1f}s  {what:<8} {work:>8.1f}s  {made:<8} {video:>7.1f}s "
              f"{cost.seconds if cost else float('nan'):>7.1f}s", flush=True)


if __name__ == "__main__":
    main()
