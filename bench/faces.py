"""Every face in the picture: what moving four faces costs against one, at the defaults (100
frames, the faces rendered at the size they fill, pasted back), by stage, on a group photo made
here — the astronaut four times side by side (each face about 170 px across, rendered at 256) —
with synthetic weights of the official sizes (``edit.full_size``). Goal: four faces at most
2.5× one face on a CPU.

    python bench/faces.py [--faces 4] [--frames 100] [--repeat 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skimage.data  # noqa: E402
from edit import full_size  # noqa: E402
from micromotion.doors.serving import serve  # noqa: E402
from micromotion.requests.request import Animate  # noqa: E402


def group_photo(path: Path, faces: int) -> Path:
    """The astronaut ``faces`` times in a row, 512 px each."""
    one = Image.fromarray(skimage.data.astronaut())
    photo = Image.new("RGB", (512 * faces, 512))
    for k in range(faces):
        photo.paste(one, (512 * k, 0))
    photo.save(path, quality=95)
    return path


def timed(models, req: Animate, out: Path) -> tuple[float, dict[str, float]]:
    """Seconds for the request, and by stage (the time up to each stage's last report)."""
    seen: dict[str, float] = defaultdict(float)
    last = [time.perf_counter()]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        seen[stage] += now - last[0]
        last[0] = now

    start = last[0] = time.perf_counter()
    serve(req, models, out, progress=progress)
    total = time.perf_counter() - start
    seen["the rest"] = total - sum(seen.values())
    return total, dict(seen)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=4)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    models = full_size()
    models.plan.resolve("auto")  # the plan times this machine's paths once: not the requests'
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, synthetic full-size "
          f"weights, {args.frames} frames")
    with tempfile.TemporaryDirectory() as tmp:
        photo = group_photo(Path(tmp) / "group.jpg", args.faces)
        runs: dict[str, list[tuple[float, dict]]] = defaultdict(list)
        for _ in range(args.repeat):  # one, then all, in turn: the same load on both
            for faces in ("one", "all"):
                req = Animate(str(photo), "smile", frames=args.frames, faces=faces)
                runs[faces].append(timed(models, req, Path(tmp) / f"{faces}.mp4"))
        best = {k: min(v, key=lambda r: r[0]) for k, v in runs.items()}
        for faces, (total, parts) in best.items():
            said = ", ".join(f"{k} {s:.1f}" for k, s in parts.items())
            print(f"faces {faces:>3}: {total:.1f} s ({said})")
        ratio = best["all"][0] / best["one"][0]
        print(f"{args.faces} faces / one face: {ratio:.2f}× (goal ≤ 2.5×)")


if __name__ == "__main__":
    main()
