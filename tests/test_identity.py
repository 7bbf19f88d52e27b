"""Identity on every result that starts from a photo: ArcFace's cosine between the aligned photo
and the render of its inversion, and the video's first, middle and last frames; said by
``plainly`` (every door's first line about a result)."""
import torch

from micromotion.nets.encoders import preprocess
from micromotion.nets.identity import measure, similarity
from micromotion.stages.pipeline import animate, transfer
from micromotion.stages.steps import invert
from micromotion.requests.request import Animate, Transfer
from micromotion.run import Run
from micromotion.doors.wording import plainly

SMALL = dict(output_size=64, paste_back="off")


def test_identity_is_arcfaces_cosine(mm):
    arcface = mm.arcface()
    g = torch.Generator().manual_seed(0)
    photo = torch.rand(1, 3, 256, 256, generator=g) * 2 - 1
    other = torch.rand(2, 3, 256, 256, generator=g) * 2 - 1
    cos = similarity(arcface, photo, torch.cat([photo, other]))
    assert cos.shape == (3,) and abs(float(cos[0]) - 1) < 1e-5 and (cos[1:] < 1 - 1e-4).all()
    w = mm.generator.mean_latent(64)[None].expand(1, mm.generator.n_latent, -1)
    with torch.no_grad():
        rendered = mm.generator.synthesis(w, max_res=256).clamp(-1, 1)  # as frames are
    same = measure(arcface, mm.generator, rendered, w, w.expand(3, -1, -1))
    assert abs(same.reconstruction - 1) < 1e-4 and all(abs(c - 1) < 1e-4 for c in same.frames)


def test_every_photo_result_says_how_alike_it_stayed(mm, astronaut, tmp_path):
    r = animate(mm, Animate(astronaut, "smile", frames=5, **SMALL), Run(tmp_path / "a.mp4"))
    ident = r.identity
    assert -1 <= ident.reconstruction <= 1 and len(ident.frames) == 3
    # the animation starts at the photo's own latent: its first frame is the reconstruction
    assert abs(ident.frames[0] - ident.reconstruction) < 1e-3
    inv = invert(mm, astronaut)
    photo = preprocess(r.aligned.image, 256)
    again = measure(mm.arcface(), mm.generator, photo, inv.wplus, inv.wplus)
    assert abs(again.reconstruction - ident.reconstruction) < 0.02
    said = plainly(r)
    assert said.startswith("The face smiles;") and f"Identity {ident.reconstruction:.2f}" in said
    lat = inv.wplus.expand(4, -1, -1).clone()
    lat[2:, 4:8] += 0.5
    t = transfer(mm, Transfer(astronaut, driving_latents=lat, **SMALL), Run(tmp_path / "t.mp4"))
    assert t.identity is not None and len(t.identity.frames) == 3
    assert "Identity" in plainly(t)
