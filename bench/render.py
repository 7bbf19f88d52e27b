"""Generator speed: seconds per frame for 256/1024 px × batch 1/4/8, fp32 and bf16, with peak
memory, on a full-size (512-d, 8-layer mapping, config-f channels) synthetic generator.

    python bench/render.py            # the table
    python bench/render.py --quick    # 1024 px, batch 1 and 4 only
    python bench/render.py --video    # a whole video: 100 frames, 1024 px, latent → mp4
    python bench/render.py --walk     # latent videos: 120-frame walk at 256/1024 px, a circle

Each configuration runs in its own process, so "peak" is that configuration's peak RSS; "above
model" subtracts the RSS after the generator is built. Times are the median of warm runs.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def one(size: int, batch: int, dtype: str, device: str, reps: int, path: str) -> dict:
    import torch

    import stylegan2
    gen = stylegan2.synthetic_generator(size=size, style_dim=512, n_mlp=8).to(device)
    w = gen.mapping(torch.randn(batch, 512, generator=torch.Generator().manual_seed(0)).to(device), 0.7)
    base = rss_mb()
    dt = getattr(torch, dtype)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
        if path == "autograd":
            wp = w.clone().requires_grad_(True)
            return gen.synthesis(wp).detach()
        with torch.no_grad():
            if device == "cuda":
                with torch.autocast("cuda", dtype=dt, enabled=dt != torch.float32):
                    return gen.synthesis(w)
            return gen.synthesis(w, dtype=dt)

    run(); sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter(); run(); sync()
        times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"size": size, "batch": batch, "dtype": dtype, "device": device, "path": path,
           "s_per_frame": statistics.median(times) / batch, "peak_mb": peak,
           "above_model_mb": peak - base}
    if device == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    return out


def video(tmp: str, frames: int = 100) -> None:
    """The original's video from a given latent (w + i/100·5·d, 1024 px, 30 fps) through the
    pipeline's renderer into an H.264 mp4, fp32 and bf16, warm (one short render first)."""
    import torch

    from micromotion.run import Run
    from micromotion.stages.steps import render_latents
    from micromotion.media.render import latent_path
    models, wplus = _pipeline()
    d = torch.randn(models.generator.n_latent, 512, generator=torch.Generator().manual_seed(1))
    path = latent_path(wplus, d * 0.05, 5.0, frames)
    for p in _precisions():
        render_latents(models, path[:2], Run(f"{tmp}/warm.mp4", precision=p))
        _timed(f"{frames} frames, 1024 px, {p.asked}", frames,
               lambda: render_latents(models, path, Run(f"{tmp}/video.mp4", precision=p)))


def walk(tmp: str) -> None:
    """Latent videos: a 120-frame looping walk (4 seeds × 30 frames, cubic) at 256 and 1024 px,
    and a 120-frame circle (its step equalising at 64 px timed on its own), fp32 and bf16."""
    from micromotion.stages.pipeline import latent_video, latent_video_path
    from micromotion.run import Run
    from micromotion.stages.steps import render_latents
    from micromotion.requests.request import LatentVideo
    models, _ = _pipeline()
    walk_video = LatentVideo("walk", seeds=(1, 2, 3, 4), frames_per_segment=30, loop=True)
    for p in _precisions():
        render_latents(models, latent_video_path(models, walk_video, precision=p)[0][:2], Run(f"{tmp}/warm.mp4", precision=p))
        for size in (256, 1024):
            req = LatentVideo("walk", seeds=(1, 2, 3, 4), frames_per_segment=30, loop=True,
                              output_size=size)
            _timed(f"walk, 120 frames, {size} px, {p.asked}", 120,
                   lambda: latent_video(models, req, Run(f"{tmp}/walk.mp4", precision=p)))
        circle = LatentVideo("circle", seeds=(1, 2), frames=120)
        latents = _timed(f"circle, 120 steps equalised at 64 px, {p.asked}", 120,
                         lambda: latent_video_path(models, circle, precision=p)[0])
        _timed(f"circle, 120 frames rendered, 1024 px, {p.asked}", 120,
               lambda: render_latents(models, latents, Run(f"{tmp}/circle.mp4", precision=p)))


def _pipeline():
    """The models on a full-size synthetic generator (no encoder), and one W+ ``[1, 18, 512]``."""
    import torch

    import stylegan2
    from micromotion.nets.models import Models
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8)
    w = gen.mapping(torch.randn(1, 512, generator=torch.Generator().manual_seed(0)), 0.7)
    return Models(gen, encoder=None), w[:, None].expand(-1, gen.n_latent, -1)


def _timed(label: str, frames: int, fn):
    t = time.perf_counter()
    result = fn()
    took = time.perf_counter() - t
    print(f"{label}: {took:.1f} s ({frames / took:.2f} frames/s, {took / frames:.3f} s/frame)",
          flush=True)
    return result


def _precisions():
    """fp32 and, where torch says this CPU runs it at speed, bf16, on the fused path
    (``bench/paths.py`` verifies and times every path)."""
    from micromotion.precision import Precision
    from stylegan2.paths import RenderPath, unsupported
    for math in ("fp32", "bf16"):
        path = RenderPath("fused", math)
        if unsupported(path, "cpu"):
            print(f"{path.name}: not run: {unsupported(path, 'cpu')}")
        else:
            yield Precision(math, render=path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--video", action="store_true")
    ap.add_argument("--walk", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--one", nargs=5, metavar=("SIZE", "BATCH", "DTYPE", "DEVICE", "PATH"))
    args = ap.parse_args()
    if args.video or args.walk:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            (walk if args.walk else video)(tmp)
        return
    if args.one:
        s, b, dt, dev, path = args.one
        print(json.dumps(one(int(s), int(b), dt, dev, args.reps, path)))
        return
    import torch
    configs = [(1024, b, dt, "cpu", "inference") for b in (1, 4) for dt in ("float32", "bfloat16")]
    if not args.quick:
        configs = [(s, b, dt, "cpu", "inference") for s in (256, 1024) for b in (1, 4, 8)
                   for dt in ("float32", "bfloat16")]
        configs.append((1024, 1, "float32", "cpu", "autograd"))
    if torch.cuda.is_available():
        configs += [(s, b, dt, "cuda", "inference") for s in (256, 1024) for b in (1, 4, 8)
                    for dt in ("float32", "bfloat16")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA'}")
    print(f"{'size':>5} {'batch':>5} {'dtype':>9} {'device':>6} {'path':>9} {'s/frame':>8} "
          f"{'peak MB':>8} {'above model MB':>15}")
    for cfg in configs:
        r = subprocess.run([sys.executable, __file__, "--reps", str(args.reps), "--one",
                            *map(str, cfg)], capture_output=True, text=True, check=True)
        d = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{d['size']:>5} {d['batch']:>5} {d['dtype']:>9} {d['device']:>6} {d['path']:>9} "
              f"{d['s_per_frame']:>8.3f} {d['peak_mb']:>8.0f} {d['above_model_mb']:>15.0f}",
              flush=True)


if __name__ == "__main__":
    main()
