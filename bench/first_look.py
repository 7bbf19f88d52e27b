"""Seconds to a first look and to the video, for each motion source at the page's defaults
(its examples' photo and clip, the synthetic weights the page serves with them: 1024 px,
18 × 512), served as the doors serve them. Run it against another checkout to compare.

    .venv/bin/python bench/first_look.py [--sources preset words clip transfer latent]
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from micromotion.doors import serving  # noqa: E402
from micromotion.nets.models import Models  # noqa: E402
from micromotion.requests.request import Animate, LatentVideo, Transfer, file_name  # noqa: E402

PHOTO, CLIP = str(ROOT / "examples" / "astronaut.jpg"), str(ROOT / "examples" / "drive.mp4")
SOURCES = {
    "preset": lambda: Animate(PHOTO, "smile"),
    "words": lambda: Animate(PHOTO, text_template="a person with {degree} smile"),
    "clip": lambda: Animate(PHOTO, anchor_video=CLIP),
    "transfer": lambda: Transfer(PHOTO, CLIP),
    "latent": lambda: LatentVideo("walk", seeds="1-4"),
}


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
    args = ap.parse_args()
    models = Models.synthetic(ROOT.parent / "shared" / "reference")
    begun = time.perf_counter()
    plan = models.plan.resolve("auto").note
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads; "
          f"plan {time.perf_counter() - begun:.1f} s; {plan}\n")
    print(f"{'source':<10} {'first look':>11}  {'(what)':<8} {'the work':>9}  {'(what)':<8} "
          f"{'video':>8}")
    for name in args.sources:
        first, what, work, made, video = timed(models, SOURCES[name]())
        print(f"{name:<10} {first:>10.1f}s  {what:<8} {work:>8.1f}s  {made:<8} {video:>7.1f}s",
              flush=True)


if __name__ == "__main__":
    main()
