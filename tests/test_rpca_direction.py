"""Robust PCA recovers planted structure; directions come out right and round-trip through files."""
import hashlib

import pytest
import torch

from micromotion.latents import direction as dirmod
from micromotion import weights
from micromotion.latents.direction import (PRESETS, direction_from_anchors, load_direction, check_preset,
                                   save_direction)
from micromotion.errors import AnchorError, DirectionFileError, UnknownPresetError
from micromotion.latents.rpca import rpca


def planted(m, n, rank, frac, seed):
    g = torch.Generator().manual_seed(seed)
    L = torch.randn(m, rank, generator=g, dtype=torch.float64) @ \
        torch.randn(rank, n, generator=g, dtype=torch.float64)
    S = torch.zeros(m, n, dtype=torch.float64)
    mask = torch.rand(m, n, generator=g) < frac
    S[mask] = (torch.rand(int(mask.sum()), generator=g, dtype=torch.float64) - 0.5) * 20
    return L, S


def test_recovers_planted_low_rank_plus_sparse():
    L0, S0 = planted(60, 80, 3, 0.05, 0)
    L, S, info = rpca(L0 + S0)
    assert info.converged.item() and info.residual.item() <= 1e-7
    assert (L - L0).norm() / L0.norm() < 1e-4
    assert (S - S0).norm() / S0.norm() < 1e-4
    assert torch.linalg.matrix_rank(L, rtol=1e-6).item() == 3


def test_batched_equals_one_by_one():
    Ds = torch.stack([sum(planted(20, 30, 2, 0.05, s)) for s in range(3)])
    L, S, info = rpca(Ds)
    for i in range(3):
        Li, Si, infoi = rpca(Ds[i])
        assert torch.allclose(L[i], Li) and torch.allclose(S[i], Si)
        assert info.iterations[i] == infoi.iterations


def test_zero_matrix_and_bad_inputs():
    L, S, info = rpca(torch.zeros(2, 4, 5))
    assert L.abs().max() == 0 and S.abs().max() == 0 and info.converged.all()
    with pytest.raises(ValueError, match="NaN"):
        rpca(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match=r"\[\.\.\., m, n\]"):
        rpca(torch.zeros(5))


@pytest.mark.parametrize("norm", [0.3, 30.0], ids=["small-edit", "large-edit"])
def test_planted_micromotion_is_recovered(norm):
    """anchors = w + t·d + sparse noise, t = 0 … 1: the direction is d (cosine ≥ 0.98)."""
    g = torch.Generator().manual_seed(1)
    L, D, K = 18, 512, 11
    w = torch.randn(L, D, generator=g)
    d = torch.randn(L, D, generator=g)
    d = d / d.norm(dim=1, keepdim=True) * norm
    t = torch.linspace(0, 1, K)
    anchors = w + t[:, None, None] * d
    noise = torch.zeros_like(anchors)
    mask = torch.rand(anchors.shape, generator=g) < 0.01
    noise[mask] = torch.randn(int(mask.sum()), generator=g) * 2.0
    direction, diag = direction_from_anchors(anchors + noise, rank=4)
    cos = torch.nn.functional.cosine_similarity(direction.flatten(), d.flatten(), dim=0)
    assert cos >= 0.98
    assert torch.allclose(direction.norm(), d.norm(), rtol=0.1)  # the anchors' own scale
    assert len(diag["singular_values"]) == L and all(0 <= e <= 1 for e in diag["explained_energy"])
    assert all(r <= 1e-7 for r in diag["rpca_residual"])


@pytest.mark.parametrize("bad,match", [(torch.zeros(1, 18, 512), "at least 2 anchors"),
                                       (torch.zeros(4, 512), r"\[K, n_latent, style_dim\]"),
                                       (torch.full((3, 2, 4), float("inf")), "NaN or infinite")])
def test_bad_anchors(bad, match):
    with pytest.raises(AnchorError, match=match):
        direction_from_anchors(bad)


def test_direction_file_round_trip(tmp_path):
    vec = torch.randn(18, 512)
    meta = {"source": "text", "template": "a person with {degree} smile", "seed": 3,
            "explained_energy": [0.9, 0.8], "nested": {"ok": True, "none": None}}
    path = save_direction(tmp_path / "smile.pt", vec, meta)
    d = load_direction(path, n_latent=18, style_dim=512)
    assert torch.equal(d.vector, vec) and d.meta == meta
    with pytest.raises(DirectionFileError, match=r"shape \[18, 512\]; this generator needs \[14, 512\]"):
        load_direction(path, n_latent=14)
    with pytest.raises(DirectionFileError, match="only strings"):
        save_direction(tmp_path / "x.pt", vec, {"bad": torch.zeros(1)})


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_direction_files_with_code_or_wrong_content(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": dirmod.FORMAT, "direction": torch.zeros(18, 512), "meta": Payload()}, evil)
    with pytest.raises(DirectionFileError, match="pickled Python objects, which are never loaded"):
        load_direction(evil)
    assert "must never run" not in capsys.readouterr().out
    wrong = tmp_path / "wrong.pt"
    torch.save(torch.zeros(2, 3, 18, 512), wrong)
    with pytest.raises(DirectionFileError, match="n_latent, style_dim"):
        load_direction(wrong)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(DirectionFileError, match="not a direction file"):
        load_direction(other)
    with pytest.raises(DirectionFileError, match="does not exist"):
        load_direction(tmp_path / "missing.pt")


SHA256 = {  # ../shared/reference/README.md
    "aging": "b00d9bb8ab03da8d63c1b0bea89bf7e2da7c36d0a049ba10c56c7432e865fdaf",
    "angry": "5132218d645ef613a9148958c5286cb8b879f60c6a3145a753639f304a38f9ff",
    "eyesClose": "8d73d5175eb69fd1797fc1e6fb632d2dd51689877b0dd0241f8be2f92b6aa0fd",
    "headsTurn": "00452120b2d87dd79ac05557238970abcbdf6157819283c260944912e5e80c61",
    "smile": "f91b21a9c9bf17b49799e873c1864118d9e72510769c112e8e553aca1d6a3fd4",
}


@pytest.mark.parametrize("name", PRESETS)
def test_published_presets_load(reference, name):
    path = weights.path_of(f"direction-{name}", reference)
    assert weights.manifest()[f"direction-{name}"]["sha256"] == SHA256[name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name]
    d = load_direction(path, n_latent=18, style_dim=512)
    assert d.vector.shape == (18, 512) and d.vector.dtype == torch.float32
    assert not d.vector.requires_grad and d.vector.norm() > 0


def test_unknown_preset():
    with pytest.raises(UnknownPresetError, match="choose one of smile, angry"):
        check_preset("wink")


PROVENANCE = [
    ({"source": "text", "template": "a {degree} smile", "degrees": ["no", "100%"], "seed": 3,
      "steps": 40, "loss_res": None, "final_losses": {"clip": [0.5, 0.4]}, "anchors": 2,
      "rank": 1, "explained_energy": [0.9] * 18, "sparse_energy": [0.1] * 18}, "FromText"),
    ({"source": "video", "file": "the anchor clip", "fps": 10.0, "times": [0.0, 0.5],
      "notes": [], "anchors": 2, "rank": 1, "explained_energy": [1.0], "sparse_energy": [0.0]},
     "FromClip"),
    ({"source": "labels", "estimator": "pairs", "n": 40, "label_range": [0.0, 1.0],
      "pairs_used": 300}, "FromLabels"),
    ({"source": "d_latent", "file": "the direction file smile.pt", "preset": "smile"},
     "Published"),
    ({"source": "tensor"}, "Given"),
    ({"source": "timeline", "cues": [{"source": "tensor", "scale": 2, "start": 0, "end": 9,
                                      "curve": "ease", "percent": True}]}, "Timeline"),
    ({"source": "something else", "by": "hand"}, "FromFile"),
    ({"source": "text", "template": "an old file without its degrees"}, "FromFile"),
]
def test_a_timeline_file_of_before_reads_its_cues_strength_as_their_scale():
    from micromotion.latents import provenance
    made = provenance.from_meta({"source": "timeline", "cues": [
        {"source": "tensor", "strength": 2, "start": 0, "end": 9, "curve": "ease"}]})
    assert made.cues[0].scale == 2


@pytest.mark.parametrize("meta,kind", PROVENANCE)
def test_provenance_is_typed_and_keeps_the_files_meta(meta, kind, tmp_path):
    """Each way of making a direction has its type; the file keeps the same plain meta."""
    from micromotion.latents import provenance
    made = provenance.from_meta(meta, "d.pt")
    assert type(made).__name__ == kind
    assert provenance.to_meta(made) == meta
    path = save_direction(tmp_path / "d.pt", torch.zeros(18, 512), meta)
    assert load_direction(path).meta == meta
