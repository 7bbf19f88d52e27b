"""A video edit's speed: seconds per frame at the defaults (the whole clip moved, blend change,
the face rendered at the size it fills), by stage, on a clip made here from the astronaut photo
as the tests film it (a slow pan and zoom, here 30 fps at 640×480: the face about 280 px
across). With the
official weights (``--weights DIR``) it also measures how far a frame inverted warm from its
neighbour lands from its own five refinements (W+ RMS, against two photos' distance).

    python bench/edit.py [--frames 30] [--size 640x480] [--weights DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the clip the tests film

import skimage.data  # noqa: E402
from micromotion.doors.serving import serve  # noqa: E402
from micromotion.media.align import warp_quad  # noqa: E402
from micromotion.media.track import follow  # noqa: E402
from micromotion.nets.encoders.warm import WARM_ITERATIONS, invert_in_order  # noqa: E402
from micromotion.nets.models import Models  # noqa: E402
from micromotion.requests.request import Edit  # noqa: E402
from test_edit import pan  # noqa: E402


def warm_error(models: Models, frames: list[np.ndarray]) -> None:
    """W+ RMS of each frame inverted warm (from frame t − batch) against its own five
    refinements from the average face."""
    track = follow(frames, 30.0)
    faces = [warp_quad(Image.fromarray(f), q, models.encoder.input_size)
             for f, q in zip(frames, track.quads)]
    warm = invert_in_order(models.encoder, faces)
    full = torch.cat([models.encoder.invert(models.encoder.preprocess([f])) for f in faces])
    rms = (warm - full).pow(2).mean((1, 2)).sqrt()
    apart = (full[1:] - full[:-1]).pow(2).mean((1, 2)).sqrt()
    print(f"warm start ({WARM_ITERATIONS} refinements) vs five from the average face: W+ RMS "
          f"median {rms.median():.4f}, max {rms.max():.4f}; neighbouring frames' own "
          f"inversions are {apart.median():.4f} apart")


def floor(models: Models, size: int) -> None:
    """What a moved frame cannot cost less than here, by its parts, each timed alone (batch
    2, the fastest of three, at the plan's precision): the warm refinement's decode (a 1024 px
    render, pooled to the encoder's 256, as ReStyle decodes) and encoder pass, then blend
    change's two renders of the face at ``size``."""
    precision = models.plan.resolve("auto")
    enc, gen = models.encoder, models.generator
    w = enc.latent_avg.expand(2, -1, -1).clone()
    x = torch.zeros(2, 6, enc.input_size, enc.input_size)
    parts = {"decode (1024 px, pooled)": lambda: enc.decode(w, precision),
             "encoder pass": lambda: enc.encode(x, precision),
             f"two renders at {size} px": lambda: precision.render.synthesis(
                 gen, torch.cat([w, w]), noise_mode="const", max_res=size)}
    said = []
    for what, run in parts.items():
        run()
        times = []
        for _ in range(3):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        said.append((what, min(times) / 2))
    print(f"a moved frame's floor here: {sum(s for _, s in said):.2f} s (" +
          ", ".join(f"{what} {s:.2f} s" for what, s in said) + ")")


def full_size() -> Models:
    """Synthetic weights of the official sizes (a 1024 px generator with its full channels,
    pSp's IR-SE50), so the times are the official models' times; the published directions
    from ../shared/reference."""
    import stylegan2
    from micromotion.nets.encoders import load_encoder
    from micromotion.nets.synthetic import encoder_checkpoint, synthetic_encoder
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8)
    net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim, 1)
    return Models(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen),
                  ROOT.parent / "shared" / "reference", synthetic=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--weights", default=None, help="the official weights: also the warm error")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    models = Models.load(args.weights) if args.weights else full_size()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{'official' if args.weights else 'synthetic full-size'} weights")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pan.mp4"
        frames = pan(Image.fromarray(skimage.data.astronaut()), path, args.frames, size, fps=30)
        seen: dict[str, float] = defaultdict(float)
        last = [time.perf_counter(), None]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            seen[stage] += now - last[0]
            last[0] = now

        models.plan.resolve("auto")  # the plan times this machine's paths once: not the edit's
        t = time.perf_counter()
        last[0] = t
        shown: dict[str, float] = {}  # when each glimpse came, as the page shows them
        r = serve(Edit(str(path), "smile"), models, Path(tmp) / "out.mp4", progress=progress,
                  preview=lambda g: shown.setdefault(g.what, time.perf_counter() - t))
        total = time.perf_counter() - t
        print(f"{args.frames} frames at {size[0]}×{size[1]}, the face rendered at "
              f"{r.how.size} px: {total:.1f} s, {total / args.frames:.2f} s a frame (with "
              f"the page's glimpses: " + ", ".join(f"{what} at {s:.1f} s" for what, s in
                                                   shown.items()) + ")")
        for stage, s in seen.items():
            print(f"  {stage:>20}: {s / args.frames:.2f} s a frame")
        print(f"  {'the rest':>20}: {(total - sum(seen.values())) / args.frames:.2f} s a frame "
              f"(checks, the plan, writing the sound)")
        floor(models, r.how.size)
        if args.weights:
            warm_error(models, frames)
        blends(models, path, frames, Path(tmp))


def blends(models: Models, path: Path, given: list[np.ndarray], tmp: Path) -> None:
    """Each blend over the middle of the clip: how much the face jumps at the span's first
    moved frame (the mean change from the frame before, in the face's box, beyond the clip's
    own change there), and how near the face stays to the filmed one where the motion is
    weakest (PSNR in the box at that first moved frame)."""
    from conftest import read_back
    from micromotion.latents.span import edit_weights
    from micromotion.media.paste import PasteBack
    n = len(given)
    span = f"{n / 3 / 30:.2f}-{2 * n / 3 / 30:.2f}"
    for blend in ("change", "face"):
        r = serve(Edit(str(path), "smile", span=span, blend=blend), models,
                  tmp / f"{blend}.mp4")
        out = read_back(r.video)[1].astype(np.float64)
        first = int(np.flatnonzero(edit_weights(np.arange(n) / 30, span) > 0)[0])  # the first moved
        quad = follow([given[first]], 30.0).quads[0]
        mask = PasteBack(given[first], [quad]).photo_mask > 0.5
        own = np.abs(given[first].astype(float) - given[first - 1])[mask].mean()
        jump = np.abs(out[first] - out[first - 1])[mask].mean() - own
        mse = ((out[first] - given[first]) ** 2)[mask].mean()
        print(f"blend {blend}: at the span's first moved frame the face jumps {jump:.1f} "
              f"levels of 255 beyond the clip's own change; PSNR to the filmed face "
              f"{10 * np.log10(255 ** 2 / max(mse, 1e-9)):.1f} dB")


if __name__ == "__main__":
    main()
