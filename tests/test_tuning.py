"""Pivotal tuning (fidelity faithful): the loop is PTI's update rule; on synthetic weights it
reaches a face the encoder cannot, keeps far latents as they were, and the micromotion still
moves the face; the shared generator never changes."""
import copy

import pytest
import torch
import torch.nn.functional as F

from conftest import read_back
from micromotion.nets import tuning
from micromotion.stages.pipeline import animate
from micromotion.run import Run
from micromotion.requests.request import Animate
from micromotion.nets.tuning import tune_generator

RES = 64  # small renders keep the test quick; the loop is the same at any size


@pytest.fixture(scope="module")
def unreachable(mm):
    """A pivot and the image a perturbed copy of the generator renders there: what the
    encoder's W+ cannot reach with the original weights."""
    other = copy.deepcopy(mm.generator)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in other.named_parameters():
            if not name.startswith("style."):
                p.mul_(1 + 0.25 * torch.randn(p.shape, generator=g))
        w = mm.generator.mapping(torch.randn(1, 512, generator=g), 0.7)[:, None]
        w = w.expand(1, mm.generator.n_latent, -1).clone()
        target = other.synthesis(w, max_res=RES).clamp(-1, 1)
    return w, target, other


def test_the_loop_is_ptis_update_rule(mm):
    """Three steps against a loop written out here from PTI's description: Adam (lr 3e-4) on
    the synthesis weights, L2 + LPIPS at the pivot, plus 0.1 · (L2 + LPIPS) between the tuned
    and the original generator at pivot + 30 · (w − pivot)/‖w − pivot‖, w = mapping(z) at
    truncation 0.5, one z a step."""
    gen, lpips = mm.generator, mm.lpips()
    pivot = gen.mapping(torch.randn(1, 512, generator=torch.Generator().manual_seed(3)), 0.7)
    pivot = pivot[:, None].expand(1, gen.n_latent, -1).clone()
    target = torch.rand(1, 3, RES, RES, generator=torch.Generator().manual_seed(4)) * 2 - 1
    tuned, how = tune_generator(gen, lpips, pivot, target, max_steps=3, loss_res=RES,
                                stop_lpips=0, seed=7)
    ours = copy.deepcopy(gen)
    params = [p for n, p in ours.named_parameters() if not n.startswith("style.")]
    for p in params:
        p.requires_grad_(True)
    adam = torch.optim.Adam(params, lr=3e-4)
    z = torch.Generator().manual_seed(7)
    for _ in range(3):
        image = ours.synthesis(pivot, max_res=RES)
        loss = F.mse_loss(image, target) + lpips(image, target).mean()
        with torch.no_grad():
            w = gen.mapping(torch.randn(1, 512, generator=z), 0.5)
            far = pivot + 30 * (w - pivot) / torch.norm(w - pivot)
            old = gen.synthesis(far, max_res=RES)
        new = ours.synthesis(far, max_res=RES)
        loss = loss + 0.1 * F.mse_loss(new, old) + 0.1 * lpips(new, old).mean()
        adam.zero_grad()
        loss.backward()
        adam.step()
    assert how.steps == 3 and how.stopped == "steps"
    for (name, a), b in zip(tuned.named_parameters(), ours.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert any(not torch.equal(a, b) for a, b in zip(tuned.parameters(), gen.parameters()))


def test_tuning_reaches_what_the_encoder_cannot_and_keeps_far_latents(mm, unreachable):
    w, target, other = unreachable
    lpips = mm.lpips()
    before = {k: v.clone() for k, v in mm.generator.state_dict().items()}
    tuned, how = tune_generator(mm.generator, lpips, w, target, max_steps=30, loss_res=RES,
                                stop_lpips=0)
    assert how.l2 <= 0.5 * how.l2_before and how.lpips <= 0.5 * how.lpips_before, how
    far = tuning.far_latents(mm.generator, w, torch.Generator().manual_seed(5))
    with torch.no_grad():
        was = mm.generator.synthesis(far, max_res=RES)
        drift = lpips(tuned.synthesis(far, max_res=RES), was).item()
        perturbed = lpips(other.synthesis(far, max_res=RES), was).item()
    # far from the pivot the tuned generator stays much nearer the original than the
    # perturbed copy, whose pivot image it learnt
    assert drift < 0.75 * perturbed, (drift, perturbed)
    after = mm.generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the shared one untouched


def test_tuning_stops_at_its_lpips(mm, unreachable):
    w, target, _ = unreachable
    _, how = tune_generator(mm.generator, mm.lpips(), w, target, max_steps=50, loss_res=RES,
                            stop_lpips=1.0)
    assert how.steps == 0 and how.stopped == "lpips"


def test_faithful_animation_moves_the_tuned_face(mm, astronaut, tmp_path, monkeypatch):
    monkeypatch.setattr(tuning, "CPU_STEPS", 4)
    seen = []
    small = dict(frames=4, output_size=64, paste_back="off")
    fast = animate(mm, Animate(astronaut, "smile", **small), Run(tmp_path / "fast.mp4"))
    r = animate(mm, Animate(astronaut, "smile", fidelity="faithful", **small), Run(tmp_path / "faithful.mp4", progress=lambda s, i, n: seen.append((s, i, n))))
    assert r.tuning is not None and r.tuning.steps == 4 and fast.tuning is None
    assert [s for s in seen if s[0] == "tune"] == [("tune", i, 4) for i in range(1, 5)]
    assert [s for s in seen if s[0] == "tuning models"] == [("tuning models", 0, 1),
                                                            ("tuning models", 1, 1)]
    assert r.tuning.lpips < r.tuning.lpips_before
    assert any("fidelity faithful: the generator was tuned" in n for n in r.notes)
    _, frames = read_back(r.video)
    _, fast_frames = read_back(fast.video)
    moved = lambda f: abs(f[-1].astype(float) - f[0].astype(float)).mean()  # noqa: E731
    assert moved(frames) > 0.5 * moved(fast_frames) > 0  # the micromotion still moves it
    assert abs(frames[0].astype(float) - fast_frames[0].astype(float)).mean() > 0.5  # tuned
    assert r.identity.reconstruction != fast.identity.reconstruction


def test_faithful_serves_every_use_case_from_photos(mm, astronaut, tmp_path, monkeypatch):
    """The transfer's target and a latent video's photos are tuned to as well (a latent video
    without a photo has no one to be faithful to)."""
    from micromotion.stages.pipeline import latent_video, transfer
    from micromotion.stages.steps import invert
    from micromotion.requests.request import LatentVideo, Transfer
    monkeypatch.setattr(tuning, "CPU_STEPS", 2)
    small = dict(output_size=64, fidelity="faithful")
    lat = invert(mm, astronaut).wplus.expand(3, -1, -1).clone()
    lat[1:, 4:8] += 0.5
    t = transfer(mm, Transfer(astronaut, driving_latents=lat, paste_back="off", **small), Run(tmp_path / "t.mp4"))
    assert t.tuning.steps == 2 and any("tuned to the photo" in n for n in t.notes)
    walk = latent_video(mm, LatentVideo("walk", image=astronaut, seeds="1", frames_per_segment=2,
                                        **small), Run(tmp_path / "w.mp4"))
    assert walk.tuning.steps == 2 and walk.identity is not None and walk.identity.frames == ()
    seeds = latent_video(mm, LatentVideo("walk", seeds="1,2", frames_per_segment=2, **small), Run(tmp_path / "s.mp4"))
    assert seeds.tuning is None and seeds.identity is None


def test_a_stop_between_steps_ends_the_tuning(mm, unreachable):
    """The page's Stop (and a cancelled prediction) raise in the progress callback: the
    tuning ends there and its copy is dropped."""
    w, target, _ = unreachable

    class Stop(Exception):
        pass

    def progress(step, total):
        if step == 2:
            raise Stop

    with pytest.raises(Stop):
        tune_generator(mm.generator, mm.lpips(), w, target, max_steps=10, loss_res=RES,
                       stop_lpips=0, progress=progress)


def test_faithful_is_bounded_by_its_photos_before_any_is_read(tmp_path):
    """Every photo is a pivot of one batch: too many is one sentence, before any decoding
    (the photos here are not even images)."""
    from micromotion.requests.checks import check_request
    from micromotion.errors import OptionError
    from micromotion.requests.request import LatentVideo
    junk = [str(tmp_path / f"{i}.jpg") for i in range(5)]
    for p in junk:
        open(p, "wb").write(b"not an image")
    with pytest.raises(OptionError, match="at most 4; this video has 5: use fewer photos or "
                                          "fidelity fast"):
        check_request(LatentVideo("walk", seeds="1", photos=junk, fidelity="faithful"))


def test_the_tunings_models_load_on_first_use_unless_preloaded(reference, monkeypatch):
    """Setup loads no LPIPS (nor fetches AlexNet's 233 MB) unless the operator asks for it
    with MICROMOTION_PRELOAD=faithful: only fidelity faithful needs it."""
    from micromotion.doors import serving
    monkeypatch.setenv("MICROMOTION_SYNTHETIC", "1")
    monkeypatch.setenv("MICROMOTION_WEIGHTS", str(reference))
    monkeypatch.delenv("MICROMOTION_PRELOAD", raising=False)
    assert serving.load_models(log=lambda line: None)._lpips is None
    monkeypatch.setenv("MICROMOTION_PRELOAD", "faithful")
    assert serving.load_models(log=lambda line: None)._lpips is not None
