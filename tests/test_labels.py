"""Directions from labelled latents: a planted direction is found by both estimators; bad
inputs are clear errors."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT
from micromotion.latents.direction import load_direction
from micromotion.errors import LabelError
from micromotion.latents.labels import direction_from_labels, load_labelled


def planted(n=400, w_plus=False, seed=0):
    """Latents = noise + t·d, labels = t + noise: d is what the estimators should find."""
    rng = np.random.default_rng(seed)
    shape = (18, 512) if w_plus else (512,)
    d = rng.standard_normal(shape)
    d /= np.linalg.norm(d)
    t = rng.uniform(-3, 3, n)
    x = rng.standard_normal((n, *shape)) * 0.05 + t.reshape(-1, *[1] * len(shape)) * d
    return x, t + rng.normal(0, 0.2, n), d


def cosine(a, b):
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("estimator", ["pairs", "classifier"])
@pytest.mark.parametrize("w_plus", [False, True])
def test_planted_direction_is_found(estimator, w_plus):
    x, y, d = planted(w_plus=w_plus)
    got = direction_from_labels(x, y, estimator)
    assert got.vector.shape == (18, 512) and got.vector.dtype == torch.float32
    want = d if w_plus else np.tile(d, (18, 1))
    assert cosine(got.vector, want) >= 0.95
    assert got.meta["estimator"] == estimator and got.meta["n"] == 400
    if estimator == "classifier":
        assert got.meta["held_out_accuracy"] >= 0.9
    # the latents' own scale: strength 1 spans about the labels' range (pairs) or the halves' gap
    assert 2 < float(np.linalg.norm(got.vector.numpy() if w_plus else got.vector[0].numpy())) < 8


def test_files_round_trip(tmp_path):
    x, y, d = planted(n=60)
    np.savez(tmp_path / "l.npz", latents=x, labels=y)
    np.savetxt(tmp_path / "l.csv", np.column_stack([y, x]), delimiter=",")
    for name in ("l.npz", "l.csv"):
        lx, ly = load_labelled(tmp_path / name)
        assert np.allclose(lx, x) and np.allclose(ly, y)


@pytest.mark.parametrize("latents,labels,match", [
    (np.zeros((10, 512)), np.ones(10), "all labels are 1.0"),
    (np.zeros((10, 512)), np.r_[np.arange(9.0), np.nan], "NaN"),
    (np.zeros((10, 512)), np.arange(9.0), "10 latents but 9 labels"),
    (np.zeros((10, 7)), np.arange(10.0), r"must be \[N, 512\]"),
    (np.zeros((3, 512)), np.arange(3.0), "at least 4"),
])
def test_bad_inputs(latents, labels, match):
    with pytest.raises(LabelError, match=match):
        direction_from_labels(latents, labels)


def test_bad_files(tmp_path):
    with pytest.raises(LabelError, match="not found"):
        load_labelled(tmp_path / "none.npz")
    np.savez(tmp_path / "x.npz", w=np.zeros(3))
    with pytest.raises(LabelError, match="'latents' and 'labels'"):
        load_labelled(tmp_path / "x.npz")
    with pytest.raises(LabelError, match="estimator must be one of"):
        direction_from_labels(np.zeros((8, 512)), np.arange(8.0), "svm")


def test_cli_direction_from_labels(tmp_path):
    x, y, d = planted(n=120)
    np.savez(tmp_path / "l.npz", latents=x, labels=y)
    r = subprocess.run([sys.executable, "-m", "micromotion", "direction", "--labels",
                        str(tmp_path / "l.npz"), "--estimator", "classifier", "--out",
                        str(tmp_path / "yaw.pt")], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    got = load_direction(tmp_path / "yaw.pt")
    assert got.meta["estimator"] == "classifier" and cosine(got.vector[0], d) >= 0.95
    r = subprocess.run([sys.executable, "-m", "micromotion", "direction", "--labels",
                        str(tmp_path / "none.npz"), "--out", "x.pt"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "none.npz not found" in r.stderr and "Traceback" not in r.stderr
