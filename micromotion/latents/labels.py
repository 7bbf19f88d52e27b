"""Directions from labelled latents (the note "Video generation based on StyleGAN"): latents
``[N, 512]`` (W) or ``[N, 18, 512]`` (W+), one number each (yaw, age, smile probability …).

Two estimators:
- ``pairs``: the mean over random pairs (p, q) of (w_p − w_q)/(label_p − label_q), pairs whose
  labels are nearly equal skipped (their quotient is mostly noise);
- ``classifier``: a logistic regression (scikit-learn) separating the latents below and above
  the label median; the direction is its normalised weight vector.

Both are returned in the latents' own scale, as ``direction.direction_from_anchors`` does:
strength 1 moves a latent across the labels' range (``pairs``: slope × range) or from the
mean of the lower half to the mean of the upper half (``classifier``: that gap along the
normal). A W direction is repeated over the ``n_latent`` layers.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .direction import Direction
from ..errors import LabelError
from .provenance import FromLabels

ESTIMATORS = ("pairs", "classifier")


def load_labelled(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``.npz`` with arrays ``latents`` and ``labels``, or ``.csv`` whose first column is the
    label and the rest one flattened latent per row → (latents, labels float64)."""
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"labelled latents {path} not found")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                if not {"latents", "labels"} <= set(f.files):
                    raise LabelError(f"{path.name} must hold arrays 'latents' and 'labels', "
                                     f"it holds {sorted(f.files)}")
                return f["latents"].astype(np.float64), f["labels"].astype(np.float64)
        if path.suffix == ".csv":
            table = np.loadtxt(path, delimiter=",", ndmin=2)
            return table[:, 1:], table[:, 0]
    except (ValueError, OSError) as exc:
        if isinstance(exc, LabelError):
            raise
        raise LabelError(f"{path.name} could not be read ({exc})") from exc
    raise LabelError(f"{path.name}: labelled latents come as .npz (latents, labels) or .csv")


def check_labelled(latents, labels, n_latent: int = 18,
                   style_dim: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Shapes, lengths and values checked → (latents ``[N, F]`` flattened, labels ``[N]``)."""
    x = np.asarray(latents, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if x.ndim == 2 and x.shape[1] == n_latent * style_dim and x.shape[1] != style_dim:
        x = x.reshape(len(x), n_latent, style_dim)
    if not (x.ndim == 2 and x.shape[1] == style_dim or
            x.ndim == 3 and x.shape[1:] == (n_latent, style_dim)):
        raise LabelError(f"latents must be [N, {style_dim}] (W) or [N, {n_latent}, {style_dim}] "
                         f"(W+), got {list(x.shape)}")
    if len(x) != len(y):
        raise LabelError(f"{len(x)} latents but {len(y)} labels: give one label per latent")
    if len(y) < 4:
        raise LabelError(f"a direction needs at least 4 labelled latents, got {len(y)}")
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        raise LabelError("latents or labels contain NaN or infinite values")
    if np.ptp(y) == 0:
        raise LabelError(f"all labels are {y[0]}: labels must vary to define a direction")
    return x.reshape(len(x), -1), y


def direction_from_labels(latents, labels, estimator: str = "pairs", n_latent: int = 18,
                          style_dim: int = 512, n_pairs: int = 20000, min_gap: float = 0.1,
                          c: float = 0.01, seed: int = 0) -> Direction:
    """Labelled latents → ``Direction`` ``[n_latent, style_dim]`` with its metadata.
    ``min_gap``: pairs closer than this fraction of the label range are skipped (``pairs``).
    ``c``: the classifier's inverse L2 strength. Latents have far more dimensions than there
    are labelled samples, so a weakly regularised classifier fits noise; strong L2 keeps its
    normal near the signal (measured on planted data: cosine 0.73 at C=1, 0.96 at 0.01 in W+)."""
    if estimator not in ESTIMATORS:
        raise LabelError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    w_plus = np.asarray(latents).ndim == 3 or np.asarray(latents).shape[-1] != style_dim
    x, y = check_labelled(latents, labels, n_latent, style_dim)
    rng = np.random.default_rng(seed)
    made = FromLabels(estimator, int(len(y)), [float(y.min()), float(y.max())])
    if estimator == "pairs":
        vec, made.pairs_used = _pairs(x, y, n_pairs, min_gap * np.ptp(y), rng)
    else:
        vec, made.held_out_accuracy = _classifier(x, y, c, rng, seed)
        made.c = c
    vec = vec.reshape(n_latent, style_dim) if w_plus else np.tile(vec, (n_latent, 1))
    return Direction(torch.from_numpy(vec).float(), made)


def _pairs(x, y, n_pairs, gap, rng):
    p, q = rng.integers(0, len(y), size=(2, n_pairs))
    keep = np.abs(y[p] - y[q]) > gap
    if keep.sum() < 2:
        raise LabelError("too few pairs with clearly different labels: give more latents or "
                         "a wider spread of labels")
    p, q = p[keep], q[keep]
    slope = ((x[p] - x[q]) / (y[p] - y[q])[:, None]).mean(0)
    return slope * np.ptp(y), int(keep.sum())


def _classifier(x, y, c, rng, seed):
    from sklearn.linear_model import LogisticRegression

    upper = y > np.median(y)
    if upper.all() or not upper.any():
        raise LabelError("the labels do not split at their median: give more varied labels")
    order = rng.permutation(len(y))
    n_test = max(1, len(y) // 5)
    test, train = order[:n_test], order[n_test:]
    if len(set(upper[train])) < 2:
        raise LabelError("too few latents on one side of the label median to train on")
    clf = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x[train], upper[train])
    accuracy = float(clf.score(x[test], upper[test]))
    normal = clf.coef_[0] / np.linalg.norm(clf.coef_[0])
    gap = float((x[upper].mean(0) - x[~upper].mean(0)) @ normal)
    return normal * gap, accuracy
