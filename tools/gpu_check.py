"""`make gpu-check`: on a machine with a GPU, build the CUDA ops and check them against the
PyTorch reference, run the CUDA tests, and time on synthetic weights of the full FFHQ sizes
(config-f generator, IR-SE50 ReStyle-pSp, CLIP ViT-B/32, ArcFace): a 100-frame 1024 px video
from a photo to an mp4 in fp32 and bf16, one ReStyle inversion, and text anchors (11 degrees
× 40 steps). Prints one table; finishes in a few minutes. Without a GPU it says so and exits 0.

    python tools/gpu_check.py                 # what make gpu-check runs
    python tools/gpu_check.py --device cpu --small --frames 2 --steps 1   # the same path, tiny
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stylegan2  # noqa: E402
from micromotion import anchors  # noqa: E402
from micromotion.models import Models  # noqa: E402
from micromotion.pipeline import animate  # noqa: E402
from micromotion.request import Animate  # noqa: E402

GOALS = {"video": 5.0, "inversion": 0.2, "anchors": 60.0}  # seconds, on an H100/H200-class GPU
PHOTO = ROOT / "examples" / "astronaut.jpg"


def full_size_models(device: str) -> Models:
    """Seeded synthetic weights with the official files' sizes, on ``device``."""
    from micromotion.encoders import load_encoder
    from micromotion.synthetic import encoder_checkpoint, synthetic_encoder
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8).to(device)
    net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim)
    return Models(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen, device=device))


def full_size_text_models(device: str):
    from micromotion.clip_guidance import CLIPGuide
    from micromotion.encoders import load_arcface
    from micromotion.synthetic import synthetic_arcface_state, synthetic_clip_state
    clip = CLIPGuide(synthetic_clip_state(seed=0, width=768, embed_dim=512, layers=12))
    arcface = load_arcface(synthetic_arcface_state(seed=1))
    clip.model.to(device)
    return clip, arcface.to(device)


def timed(fn, device: str) -> float:
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def ops_row() -> tuple[str, str, str]:
    from stylegan2.ops import plugin
    t = time.perf_counter()
    state = {op: plugin.available(op) for op in ("bias_act", "upfirdn2d")}
    took = time.perf_counter() - t
    said = ", ".join(f"{op} {'verified' if ok else 'FAILED: ' + plugin._failed.get(op, '?')}"
                     for op, ok in state.items())
    return "CUDA ops built and checked against the reference", f"{said} ({took:.0f} s)", "both"


def tests_row() -> tuple[str, str, str]:
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_ops.py",
                        "tests/test_model.py", "tests/test_golden.py"], cwd=ROOT,
                       capture_output=True, text=True)
    last = (r.stdout.strip().splitlines() or ["no output"])[-1]
    return "CUDA tests (ops, generator, golden)", last, "pass"


def video_rows(models: Models, device: str, frames: int) -> list[tuple[str, str, str]]:
    d = torch.randn(models.generator.n_latent, 512,
                    generator=torch.Generator().manual_seed(1)) * 0.05
    rows = []
    for precision in ("fp32", "bf16"):
        req = Animate(str(PHOTO), direction_file=d, frames=frames, output_size=1024,
                      paste_back="off", dtype=precision)
        with models.precision(precision):
            animate(models, Animate(str(PHOTO), direction_file=d, frames=2), "/tmp/warm.mp4")
            s = timed(lambda: animate(models, req, "/tmp/gpu-check.mp4"), device)
        rows.append((f"{frames}-frame 1024 px video, photo → mp4, {precision}",
                     f"{s:.2f} s ({frames / s:.0f} frames/s)", f"< {GOALS['video']:g} s"))
    return rows


def inversion_rows(models: Models, device: str) -> list[tuple[str, str, str]]:
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0)) * 2 - 1
    rows = []
    for precision, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        models.encoder.invert(x, dtype=dtype)  # warm
        s = statistics.median(timed(lambda: models.encoder.invert(x, dtype=dtype), device)
                              for _ in range(5))
        rows.append((f"ReStyle-pSp inversion (5 iterations), {precision}", f"{s:.3f} s",
                     f"< {GOALS['inversion']:g} s"))
    return rows


def anchors_row(models: Models, device: str, steps: int) -> tuple[str, str, str]:
    clip, arcface = models.text_models() if models.synthetic else full_size_text_models(device)
    degrees = list(anchors.DEFAULT_DEGREES)
    s = timed(lambda: anchors.text_anchors(models.generator, clip, arcface,
                                           "a person with {degree} smile", degrees, steps=steps,
                                           loss_res=256, dtype=torch.bfloat16,
                                           batch_size=len(degrees)), device)
    return (f"text anchors, {len(degrees)} degrees × {steps} steps, bf16", f"{s:.1f} s",
            f"< {GOALS['anchors']:g} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true", help="narrow synthetic models (a smoke run)")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU on this machine, so nothing to check here (CI never has "
              "one); run it where `device` lends a GPU.")
        return 0
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"gpu-check on {name}, torch {torch.__version__}, CUDA {torch.version.cuda}", flush=True)
    rows = [ops_row(), tests_row()] if args.device == "cuda" else []
    models = Models.synthetic() if args.small else full_size_models(args.device)
    if args.small:
        models.generator.to(args.device)
    print(models.measure_precision(), flush=True)
    rows += video_rows(models, args.device, args.frames)
    rows += inversion_rows(models, args.device)
    rows.append(anchors_row(models, args.device, args.steps))
    print("\n| check | result | goal |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
