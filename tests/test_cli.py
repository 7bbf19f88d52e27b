"""The command line door, run as a user runs it."""
import re
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "micromotion", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_sample_synthetic_writes_images(tmp_path):
    r = run("sample", "--synthetic", "--seeds", "0,2", "--size", "64", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    # stderr is not a terminal here: plain lines, each stage's last with its own time
    assert "\r" not in r.stderr and "\x1b" not in r.stderr
    assert re.search(r"^render: 2/2 \(\d+\.\d s\)$", r.stderr, re.M), r.stderr
    files = sorted(tmp_path.glob("*.png"))
    assert [f.name for f in files] == ["synthetic0000.png", "synthetic0002.png"]
    a, b = (np.asarray(Image.open(f)) for f in files)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8 and not np.array_equal(a, b)


def test_sample_from_checkpoint_file(tmp_path):
    import stylegan2
    ckpt = stylegan2.write_synthetic_checkpoint(tmp_path / "g.pt", size=32, style_dim=16,
                                                n_mlp=2, max_channels=32)
    r = run("sample", "--checkpoint", str(ckpt), "--seeds", "1", "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert np.asarray(Image.open(tmp_path / "o" / "seed0001.png")).shape == (32, 32, 3)
    # --weights DIR, as every other command takes it: the generator in that folder
    ckpt.rename(tmp_path / "stylegan2-ffhq-config-f.pt")
    r = run("sample", "--weights", str(tmp_path), "--seeds", "2", "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "seed0002.png").is_file()


def test_missing_checkpoint_is_one_clear_sentence(tmp_path):
    r = run("sample", "--checkpoint", str(tmp_path / "none.pt"))
    assert r.returncode == 2
    assert "not found" in r.stderr and "manifest.json" in r.stderr and "Traceback" not in r.stderr


def test_bad_checkpoint_and_bad_seeds(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 100)
    r = run("sample", "--checkpoint", str(bad))
    assert r.returncode == 2 and "not a readable PyTorch checkpoint" in r.stderr
    r = run("sample", "--synthetic", "--seeds", "a-b")
    assert r.returncode == 2 and "seeds must look like" in r.stderr
    r = run("sample", "--synthetic", "--truncation", "1.5")
    assert r.returncode == 2 and "truncation" in r.stderr
    r = run("sample", "--synthetic", "--size", "100")
    assert r.returncode == 2 and "--size must be a power of two from 4 to 256" in r.stderr and "Traceback" not in r.stderr
