"""How long a cold boot takes: a fresh process from its start to READY (``serving.load_models``,
what Cog's ``setup()`` runs) with every weights file present, as in an image built after
``python -m micromotion.weights fetch``. The weights are synthetic, written here at the official
files' layouts and sizes (the config-f generator with its g and d as in the 381 MB file, a
ReStyle-pSp encoder, IR-SE50, CLIP ViT-B/32 as a TorchScript archive, the five directions),
listed in a manifest of their own (``MICROMOTION_MANIFEST``). Each boot is timed by stage:
verifying (hashing, or reading the records), reading and building the generator and encoder,
CLIP and ArcFace, the plan's measurements — first without verification records (every file
hashed: what each boot paid before), then with them.

    .venv/bin/python bench/setup.py [--folder /tmp/mm-setup-weights] [--runs 2]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import stylegan2  # noqa: E402
from micromotion import weights  # noqa: E402
from micromotion.nets.synthetic import (synthetic_arcface_state,  # noqa: E402
                                   synthetic_encoder_checkpoint, write_synthetic_clip_archive)

FULL = dict(size=1024, style_dim=512, n_mlp=8)  # config-f
OFFICIAL_GENERATOR_BYTES = 381_462_551
DIRECTIONS = ROOT.parent / "shared" / "reference"

# what the child process runs: load_models with its stages timed (nothing of it copied here)
CHILD = r"""
import json, sys, time
started = float(sys.argv[1])
took = {}
def timed(owner, name, stage):
    real = getattr(owner, name)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            took[stage] = took.get(stage, 0.0) + time.perf_counter() - t
    setattr(owner, name, wrapper)
t = time.perf_counter()
from micromotion import verify, weights
from micromotion.doors import serving
from micromotion.nets import models, plan
took["imports"] = time.perf_counter() - t
timed(weights, "ensure", "verifying")
timed(verify, "sha256_of", "of which hashing")
real_load = models.Models.load.__func__
def load(cls, *a, **k):
    t = time.perf_counter()
    try:
        return real_load(cls, *a, **k)
    finally:
        took["generator and encoder"] = time.perf_counter() - t
models.Models.load = classmethod(load)
timed(models.Models, "text_models", "CLIP and ArcFace")
timed(plan.Plan, "measure", "the plan's measurements")
serving.load_models(log=lambda line: None)
took["to READY"] = time.time() - started
print(json.dumps(took))
"""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_weights(folder: Path) -> Path:
    """The synthetic files at the official layouts and sizes, and their manifest → its path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = weights.manifest()
    files = {}
    gen = folder / entries["stylegan2-ffhq-config-f"]["file"]
    if not gen.exists():
        ckpt = stylegan2.synthetic_checkpoint("rosinality", seed=0, **FULL)
        ckpt["g"] = {k: v.clone() for k, v in ckpt["g_ema"].items()}
        have = sum(v.numel() * 4 for v in ckpt["g_ema"].values()) * 2
        ckpt["d"] = {"pad": torch.zeros(max(0, OFFICIAL_GENERATOR_BYTES - have) // 4)}
        torch.save(ckpt, gen)  # the official file holds g and d besides g_ema
    files["stylegan2-ffhq-config-f"] = gen
    enc = folder / entries["restyle_psp_ffhq_encode"]["file"]
    if not enc.exists():
        torch.save(synthetic_encoder_checkpoint("BackboneEncoder", seed=0, **FULL), enc)
    files["restyle_psp_ffhq_encode"] = enc
    arc = folder / entries["model_ir_se50"]["file"]
    if not arc.exists():
        torch.save(synthetic_arcface_state(), arc)
    files["model_ir_se50"] = arc
    clip = folder / entries["clip-vit-b-32"]["file"]
    if not clip.exists():
        write_synthetic_clip_archive(clip, width=768, embed_dim=512, layers=12)
    files["clip-vit-b-32"] = clip
    for name in weights.PRESET_NAMES:
        src = DIRECTIONS / entries[name]["file"]
        dest = folder / entries[name]["file"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        files[name] = dest
    ours = {name: dict(entries[name], size=path.stat().st_size, sha256=sha256(path),
                       sources=[]) for name, path in files.items()}
    path = folder / "manifest.json"
    path.write_text(json.dumps(ours, indent=1))
    return path


def boot(folder: Path, manifest: Path) -> dict:
    env = {**os.environ, "MICROMOTION_WEIGHTS": str(folder), "MICROMOTION_MANIFEST": str(manifest),
           "MICROMOTION_OFFLINE": "1", "MICROMOTION_CACHE": str(folder / ".cache")}
    env.pop("MICROMOTION_SYNTHETIC", None)
    run = subprocess.run([sys.executable, "-c", CHILD, str(time.time())], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", type=Path, default=Path("/tmp/mm-setup-weights"))
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    manifest = make_weights(args.folder)
    sizes = sum(p.stat().st_size for p in args.folder.rglob("*") if p.is_file())
    print(f"# setup: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}; weights {sizes / 1e9:.2f} GB in {args.folder}")
    rows = []
    subprocess.run([sys.executable, "-m", "micromotion.weights", "fetch",
                    *weights.DEFAULT_NAMES], cwd=ROOT, check=True,
                   env={**os.environ, "MICROMOTION_WEIGHTS": str(args.folder),
                        "MICROMOTION_MANIFEST": str(manifest), "MICROMOTION_OFFLINE": "1"},
                   capture_output=True)  # what an operator runs before `cog build`
    for records in (False, True):
        for _ in range(args.runs):
            if not records:  # as before: every file hashed, CLIP's archive loaded each boot
                for r in (*args.folder.rglob("*.verified.json"),
                          *args.folder.glob("*.state_dict.pt")):
                    r.unlink()
            shutil.rmtree(args.folder / ".cache", ignore_errors=True)  # a fresh copy has none
            rows.append(("with records" if records else "no records (hash all)", boot(
                args.folder, manifest)))
    stages = list(dict.fromkeys(k for _, r in rows for k in r))
    print("| boot | " + " | ".join(stages) + " |")
    print("|---|" + "---|" * len(stages))
    for name, r in rows:
        print(f"| {name} | " + " | ".join(f"{r.get(s, 0):.1f} s" for s in stages) + " |")


if __name__ == "__main__":
    main()
