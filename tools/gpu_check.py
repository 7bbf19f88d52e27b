"""`make gpu-check`: on a machine with a GPU, build the CUDA ops and check them against the
PyTorch reference, run the CUDA tests, and time on synthetic weights of the full FFHQ sizes
(config-f generator, IR-SE50 ReStyle-pSp, CLIP ViT-B/32, ArcFace): the generator alone per
implementation and precision, a 100-frame 1024 px video from a photo to an mp4 in fp32 and bf16,
one ReStyle inversion, and text anchors (11 degrees × 40 steps). Prints one table, a row as each
check ends (and writes it to ``--out``); finishes in a few minutes. Without a GPU it says so and
exits 0.

    python tools/gpu_check.py                 # what make gpu-check runs
    python tools/gpu_check.py --device cpu --small --frames 2 --steps 1   # the same path, tiny
    python tools/gpu_check.py --save-landmarks F   # the photo's landmarks, for a machine without
                                                   # dlib's model (tools/device_pack.sh)
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stylegan2  # noqa: E402
from micromotion.media import align  # noqa: E402
from micromotion.motions import anchors  # noqa: E402
from micromotion.latents.interpolate import seed_zs  # noqa: E402
from micromotion.errors import PrecisionError  # noqa: E402
from micromotion.nets.models import Models  # noqa: E402

ASKED = ("fp32", "bf16")  # the forced precisions timed (auto is the faster verified one)
from micromotion.stages.pipeline import animate  # noqa: E402
from micromotion.requests.request import Animate  # noqa: E402
from micromotion.run import Run  # noqa: E402

GOALS = {"video": 5.0, "inversion": 0.2, "anchors": 60.0,
         "tuning": 10.0, "setup": 15.0, "edit": 0.03}  # seconds, on an H100/H200-class GPU
PHOTO = ROOT / "examples" / "astronaut.jpg"
OPS = ("bias_act", "upfirdn2d")
Row = tuple[str, str, str]  # check, result, goal


class Table:
    """Rows printed as they come and rewritten to ``path`` each time, so a run stopped at its
    time limit still leaves every row it finished."""

    def __init__(self, path: Path | None, title: str):
        self.path, self.lines = path, [title, "", "| check | result | goal |", "|---|---|---|"]
        print("\n".join(self.lines), flush=True)
        self._save()

    def add(self, row: Row) -> None:
        self.lines.append("| " + " | ".join(row) + " |")
        print(self.lines[-1], flush=True)
        self._save()

    def note(self, text: str) -> None:
        self.lines.append(f"\n{text}")
        print(text, flush=True)
        self._save()

    def _save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("\n".join(self.lines) + "\n")


def full_size_models(device: str) -> Models:
    """Seeded synthetic weights with the official files' sizes, on ``device``."""
    from micromotion.nets.encoders import load_encoder
    from micromotion.nets.synthetic import encoder_checkpoint, synthetic_encoder
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8).to(device)
    net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim)
    return Models(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen, device=device))


def full_size_text_models(device: str):
    from micromotion.nets.clip_guidance import CLIPGuide
    from micromotion.nets.encoders import load_arcface
    from micromotion.nets.synthetic import synthetic_arcface_state, synthetic_clip_state
    clip = CLIPGuide(synthetic_clip_state(seed=0, width=768, embed_dim=512, layers=12))
    arcface = load_arcface(synthetic_arcface_state(seed=1))
    clip.model.to(device)
    return clip, arcface.to(device)


def timed(fn: Callable[[], object], device: str) -> float:
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


# -- the photo's landmarks, for a machine without dlib's 68-point model (100 MB: the GPU machine
#    cannot be sent it). The alignment that follows them (quad, warp) still runs there.

def save_landmarks(path: Path) -> None:
    from micromotion.media.images import load_image
    image = load_image(PHOTO).image
    faces = align.detect_faces(image)
    lm = align.landmarks_at(image, faces[0][0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({PHOTO.name: {"landmarks": lm.tolist(), "faces": faces[:1]}}))
    print(f"wrote the 68 landmarks of {PHOTO.name} to {path}")


@contextlib.contextmanager
def given_landmarks(path: Path | None) -> Iterator[None]:
    """While open, the landmarks saved in ``path`` stand in for dlib's detection (of the one
    photo this check uses); no path: dlib runs."""
    if path is None:
        yield
        return
    saved = json.loads(path.read_text())[PHOTO.name]
    lm = np.array(saved["landmarks"], dtype=np.float64)
    faces = [(tuple(box), score) for box, score in saved["faces"]]
    real = align.detect_faces, align.landmarks_at
    align.detect_faces = lambda *args, **kwargs: list(faces)
    align.landmarks_at = lambda *args, **kwargs: lm.copy()
    try:
        yield
    finally:
        align.detect_faces, align.landmarks_at = real


# -- the checks: each returns its rows ------------------------------------------------------

def ops_rows() -> list[Row]:
    """Build both ops at once (the compiler is most of the time), then check each on the GPU."""
    from stylegan2.ops import plugin

    def build(op: str) -> None:
        with contextlib.suppress(RuntimeError):  # available() below reports the failure
            plugin.load(op)

    start = time.perf_counter()
    with ThreadPoolExecutor(len(OPS)) as pool:
        list(pool.map(build, OPS))
    state = {op: plugin.available(op) for op in OPS}
    said = ", ".join(f"{op} {'verified' if ok else 'FAILED: ' + plugin._failed.get(op, '?')}"
                     for op, ok in state.items())
    return [("CUDA ops built and checked against the reference",
             f"{said} ({time.perf_counter() - start:.0f} s)", "both verified")]


def tests_rows() -> list[Row]:
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/test_ops.py"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        print(r.stdout[-6000:], r.stderr[-2000:], sep="\n", file=sys.stderr)
    last = (r.stdout.strip().splitlines() or ["no output"])[-1]
    return [("CUDA tests (tests/test_ops.py)", last, "all pass")]


@torch.no_grad()
def synthesis_rows(models: Models, device: str, batch: int = 8) -> list[Row]:
    """The generator alone at full size along each render path the plan verified here
    (whether the plan's small-frame ranking holds at full size is read off these)."""
    gen = models.generator
    w = gen.mapping(seed_zs(gen, range(batch)))
    rows = []
    for trial in models.plan.trials:
        if trial.stage == "render" and trial.serves:
            trial.path.synthesis(gen, w)  # warm: kernels, buffers
            s = min(timed(lambda: trial.path.synthesis(gen, w), device) for _ in range(3))
            rows.append((f"generator alone, {gen.size} px, batch {batch}, {trial.name}",
                         f"{s / batch * 1000:.1f} ms/frame", "—"))
    return rows


def plan_rows(models: Models) -> list[Row]:
    """Every path the plan tried at load, with its time, error and verdict."""
    return [(f"path at load: {t.stage}, {t.name}",
             f"{'—' if t.seconds is None else f'{t.seconds * 1000:.0f} ms'}, error "
             f"{'—' if t.error is None else f'{t.error:.2g}'} (tolerance {t.tolerance:.2g})",
             "serves" if t.serves else f"dropped: {t.dropped}") for t in models.plan.trials]


def resolved(models: Models, asked: str):
    """The plan's paths for ``asked``, or None where this machine cannot run it."""
    try:
        return models.plan.resolve(asked)
    except PrecisionError:
        return None


@torch.no_grad()
def agreement_rows(models: Models) -> list[Row]:
    """One full-size frame as serving renders it on this device, against the spec (``impl="ref"``,
    pure PyTorch, float32) on the CPU: on a GPU, the CUDA kernels and cuDNN's TF32 convolutions at
    full size."""
    gen = models.generator
    w = gen.mapping(seed_zs(gen, [2]))
    served, impl = gen.synthesis(w).cpu(), gen._pick_impl(w)
    device = models.device
    try:  # the same weights, moved (the generator holds a lock, so it cannot be copied)
        spec = gen.cpu().synthesis(w.cpu(), impl="ref")
    finally:
        gen.to(device)
    levels = (served - spec).clamp(-2, 2).abs() * 127.5
    return [(f"{gen.size} px frame on the {device.type.upper()} ({impl}) "
             f"against the reference on the CPU, fp32",
             f"{levels.mean():.3f} levels of 255 on average, {levels.max():.2f} at most", "—")]


def video_rows(models: Models, device: str, frames: int, landmarks: Path | None) -> list[Row]:
    d = torch.randn(models.generator.n_latent, models.generator.style_dim,
                    generator=torch.Generator().manual_seed(1)) * 0.05
    given = " (landmarks given)" if landmarks else ""
    rows = []
    with tempfile.TemporaryDirectory() as tmp, given_landmarks(landmarks):
        for precision in filter(None, (resolved(models, a) for a in ASKED)):
            req = Animate(str(PHOTO), direction_file=d, frames=frames, output_size=1024,
                          paste_back="off", dtype=precision.asked)
            animate(models, Animate(str(PHOTO), direction_file=d, frames=2), Run(f"{tmp}/warm.mp4", precision=precision))
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            s = timed(lambda: animate(models, req, Run(f"{tmp}/check.mp4", precision=precision)),
                      device)
            peak = (f", peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
                    if device == "cuda" else "")
            rows.append((f"{frames}-frame 1024 px video, photo → mp4{given}, "
                         f"{precision.asked} ({precision.render.name})",
                         f"{s:.2f} s ({frames / s:.1f} frames/s{peak})", f"< {GOALS['video']:g} s"))
    return rows


def edit_rows(models: Models, device: str, frames: int = 32) -> list[Row]:
    """A video edit's work on the device, a frame: its face inverted warm from the frames
    before it (``warm.invert_in_order``, batches of 8) and rendered twice at 256 px (blend
    change: moved and still). Finding the face in each frame is the CPU's, beside it."""
    from PIL import Image
    from micromotion.media.render import render_frames
    from micromotion.nets.encoders.warm import invert_in_order
    face = Image.open(PHOTO).convert("RGB").resize((256, 256))
    faces = [face.rotate(k * 0.5) for k in range(frames)]
    rows = []
    for precision in filter(None, (resolved(models, a) for a in ASKED)):
        def work():
            w = invert_in_order(models.encoder, faces, batch=8, precision=precision)
            for _ in render_frames(models.generator, torch.cat([w, w]), 16, 256,
                                   precision.render):
                pass
        work()  # warm
        s = timed(work, device) / frames
        rows.append((f"video edit, a frame's inversion (warm) and two 256 px renders, "
                     f"{precision.asked}", f"{s * 1000:.0f} ms", f"< {GOALS['edit'] * 1000:g} ms"))
    return rows


def faces_rows(models: Models, device: str, frames: int = 100) -> list[Row]:
    """Every face in the picture, on the device: four faces inverted in one batch and their
    100 frames rendered at 256 px (``render.render_faces``), against one face's. Finding and
    pasting them is the CPU's, beside it."""
    from PIL import Image
    from micromotion.media.render import render_faces
    face = Image.open(PHOTO).convert("RGB").resize((256, 256))
    d = torch.randn(models.generator.n_latent, models.generator.style_dim,
                    generator=torch.Generator().manual_seed(2)) * 0.05
    t = torch.linspace(0, 1, frames)[:, None, None].to(models.device)
    rows = []
    for precision in filter(None, (resolved(models, a) for a in ASKED)):
        def work(n: int) -> None:
            x = models.encoder.preprocess([face.rotate(3 * k) for k in range(n)])
            w = models.encoder.invert(x, precision=precision)
            paths = [w[k] + t * d.to(w) for k in range(n)]
            for _ in render_faces(models.generator, paths, [256] * n, 16, precision.render):
                pass
        work(4)  # warm
        one, four = timed(lambda: work(1), device), timed(lambda: work(4), device)
        rows.append((f"four faces, inverted and {frames} frames each at 256 px, "
                     f"{precision.asked}", f"{four:.2f} s, {four / one:.2f}× one face's "
                     f"{one:.2f} s", "≤ 2.5× one face"))
    return rows


def inversion_rows(models: Models, device: str) -> list[Row]:
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0)) * 2 - 1
    rows = []
    for precision in filter(None, (resolved(models, a) for a in ASKED)):
        models.encoder.invert(x, precision=precision)  # warm
        s = statistics.median(timed(lambda: models.encoder.invert(x, precision=precision),
                                    device) for _ in range(5))
        rows.append((f"ReStyle-pSp inversion (5 iterations), {precision.asked}", f"{s:.3f} s",
                     f"< {GOALS['inversion']:g} s"))
    return rows


def anchors_rows(models: Models, device: str, steps: int) -> list[Row]:
    clip, arcface = models.text_models() if models.synthetic else full_size_text_models(device)
    degrees = list(anchors.DEFAULT_DEGREES)
    precision = models.plan.resolve("auto")
    s = timed(lambda: anchors.text_anchors(models.generator, clip, arcface,
                                           "a person with {degree} smile", degrees, steps=steps,
                                           loss_res=256, precision=precision,
                                           batch_size=len(degrees)), device)
    return [(f"text anchors, {len(degrees)} degrees × {steps} steps, auto "
             f"({precision.anchors.name})", f"{s:.1f} s",
             f"< {GOALS['anchors']:g} s")]


def tuning_rows(models: Models, device: str, steps: int | None) -> list[Row]:
    """fidelity faithful: pivotal tuning's whole loop (``steps``, default ``steps_for`` the
    device; no early stop), on a pivot and a target the generator does not render."""
    from micromotion.nets.lpips import load_lpips, synthetic_states
    from micromotion.nets.tuning import TUNE_RES, steps_for, tune_generator
    lpips = load_lpips(*synthetic_states()).to(device)
    g = torch.Generator().manual_seed(0)
    pivot = models.generator.mean_latent(64)[None, None].expand(1, models.generator.n_latent, -1)
    target = (torch.rand(1, 3, TUNE_RES, TUNE_RES, generator=g) * 2 - 1).to(device)
    tune_generator(models.generator, lpips, pivot, target, 2, stop_lpips=0)  # warm
    steps = steps or steps_for(torch.device(device))
    s = timed(lambda: tune_generator(models.generator, lpips, pivot, target, steps,
                                     stop_lpips=0), device)
    return [(f"pivotal tuning (fidelity faithful), {steps} steps at {TUNE_RES} px, fp32",
             f"{s:.1f} s", f"< {GOALS['tuning']:g} s")]


def setup_rows() -> list[Row]:
    """A cold boot to READY (``bench/setup.py``: official-size synthetic weights in the
    image's form, the CUDA ops built or found), with the weights' records present."""
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "setup.py"), "--runs", "1"],
                         capture_output=True, text=True, timeout=600, check=True)
    last = [ln for ln in run.stdout.splitlines() if ln.startswith("| with records")][-1]
    return [("cold boot to READY, weights in the image (bench/setup.py)",
             last.rstrip(" |").rpartition("| ")[2], f"< {GOALS['setup']:g} s")]


def run_checks(table: Table, checks: list[tuple[str, Callable[[], list[Row]]]],
               budget: float) -> None:
    """Each check in turn, its rows into ``table``. A check that raises is a row saying so
    (its traceback on stderr) and the others still run: one failure must not cost the rest of
    a GPU session's few minutes. Checks that would start after ``budget`` seconds are listed
    as skipped."""
    start = time.perf_counter()
    for name, check in checks:
        if time.perf_counter() - start > budget:
            table.add((name, f"skipped: the {budget:g} s budget was spent", "—"))
            continue
        try:
            for row in check():
                table.add(row)
        except Exception as exc:  # noqa: BLE001 — reported in the table, traceback kept
            traceback.print_exc()
            table.add((name, f"FAILED: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                       "—"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true", help="narrow synthetic models (a smoke run)")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=8, help="the generator-alone rows' batch")
    ap.add_argument("--tune-steps", type=int, default=None,
                    help="pivotal tuning's steps (default: as faithful runs on the device)")
    ap.add_argument("--landmarks", type=Path,
                    help="the photo's landmarks saved by --save-landmarks, instead of dlib")
    ap.add_argument("--save-landmarks", type=Path, metavar="FILE",
                    help="find the photo's landmarks with dlib, write them to FILE, and stop")
    ap.add_argument("--out", type=Path, help="also write the table to this markdown file")
    ap.add_argument("--budget", type=float, default=420,
                    help="seconds after which checks not yet started are skipped")
    args = ap.parse_args(argv)
    if args.save_landmarks:
        save_landmarks(args.save_landmarks)
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU on this machine, so nothing to check here (CI never has "
              "one); run it where `device` lends a GPU.")
        return 0
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    table = Table(args.out, f"gpu-check on {name}, torch {torch.__version__}, "
                            f"CUDA {torch.version.cuda}")
    models = (Models.synthetic(device=args.device) if args.small
              else full_size_models(args.device))
    checks = [("CUDA ops", ops_rows), ("CUDA tests", tests_rows)] if args.device == "cuda" else []
    checks += [
        ("paths at load", lambda: plan_rows(models)),
        ("agreement", lambda: agreement_rows(models)),
        ("generator alone", lambda: synthesis_rows(models, args.device, args.batch)),
        ("video", lambda: video_rows(models, args.device, args.frames, args.landmarks)),
        ("inversion", lambda: inversion_rows(models, args.device)),
        ("video edit", lambda: edit_rows(models, args.device, min(args.frames, 32))),
        ("four faces", lambda: faces_rows(models, args.device, args.frames)),
        ("text anchors", lambda: anchors_rows(models, args.device, args.steps)),
        ("pivotal tuning", lambda: tuning_rows(models, args.device, args.tune_steps)),
    ] + ([("cold boot", setup_rows)] if args.device == "cuda" else [])
    run_checks(table, checks, args.budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
