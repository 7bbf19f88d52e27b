"""Interpolation videos: walks (cubic in W+, slerp in z), style mixing, the equal-step circle."""
import math

import numpy as np
import pytest
import torch

from conftest import read_back
from micromotion.latents import interpolate
from micromotion.errors import OptionError
from micromotion.latents.interpolate import seed_latents
from micromotion.stages.pipeline import latent_video, latent_video_path
from micromotion.stages.steps import invert
from micromotion.requests.request import LatentVideo
from micromotion.run import Run

PHOTO = np.zeros((64, 64, 3), np.uint8)  # decodes (a face is looked for only later)

# What "about constant" means for the circle: every step's MSE (the closing one included) within
# 25 % of the mean step, where evenly spaced angles are off by a factor of several.
EQUAL_STEP_TOLERANCE = 0.25


@pytest.mark.parametrize("n_keys,per,loop,expected", [(2, 5, False, 6), (4, 30, False, 91),
                                                      (4, 30, True, 120), (2, 1, True, 2)])
def test_frame_counts(n_keys, per, loop, expected):
    assert len(interpolate.positions(n_keys, per, loop)) == expected


def keys(n=4, seed=0):
    return torch.randn(n, 3, 8, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("loop", [False, True])
def test_cubic_walk_visits_every_keyframe(loop):
    k, per = keys(), 7
    path = interpolate.cubic_at(k, interpolate.positions(4, per, loop), loop)
    torch.testing.assert_close(path[::per], k, atol=1e-6, rtol=0)
    assert len(path) == (4 * per if loop else 3 * per + 1)


def test_cubic_loop_closes_smoothly():
    k, per = keys(), 10
    s = interpolate.positions(4, per, loop=True)
    path = interpolate.cubic_at(k, s, loop=True)
    after_last = interpolate.cubic_at(k, s[-1:] + 1 / per, loop=True)
    torch.testing.assert_close(after_last[0], path[0], atol=1e-6, rtol=0)  # last + 1 = first
    # seamless: starting the loop at the second keyframe gives the same frames, shifted, so
    # where it closes is like any other keyframe
    shifted = interpolate.cubic_at(k.roll(-1, 0), s, loop=True)
    torch.testing.assert_close(shifted, path.roll(-per, 0), atol=1e-6, rtol=0)


def test_slerp_walk_keeps_gaussian_norm_and_closes():
    z = torch.randn(3, 512, generator=torch.Generator().manual_seed(1))
    s = interpolate.positions(3, 8, loop=True)
    path = interpolate.slerp_at(z, s, loop=True)
    torch.testing.assert_close(path[::8], z, atol=1e-5, rtol=0)
    norms = path.norm(dim=1)
    assert norms.min() > 0.9 * z.norm(dim=1).min()  # a straight line would sag towards 0
    torch.testing.assert_close(interpolate.slerp_at(z, torch.tensor([3.0], dtype=torch.float64),
                                                    loop=True)[0], z[0], atol=1e-5, rtol=0)


def test_mixing_holds_every_other_layer_exactly():
    source, path = keys(1)[0], keys(5, seed=2)
    mixed = interpolate.mix_layers(source, path, [0, 2])
    assert torch.equal(mixed[:, [1]], source[None, [1]].expand(5, -1, -1))
    assert torch.equal(mixed[:, [0, 2]], path[:, [0, 2]])
    with pytest.raises(OptionError, match="layers must be W\\+ layer indices from 0 to 2"):
        interpolate.mix_layers(source, path, [3])


def bumpy_loop(angles):
    """A loop whose speed changes a lot along it: a point on a circle at a warped angle."""
    phi = angles + 0.9 * torch.sin(angles)
    return torch.stack([phi.cos(), phi.sin()], 1)[:, :, None].expand(-1, -1, 4).float()


def test_equal_step_angles_on_a_warped_loop():
    n = 30
    angles, steps = interpolate.equal_step_angles(bumpy_loop, n)
    assert len(angles) == n and angles[0] == 0 and bool((angles.diff() > 0).all())
    assert angles[-1] < 2 * math.pi
    measured = interpolate.step_mse(bumpy_loop(angles))  # closing step included
    torch.testing.assert_close(measured, steps.double(), rtol=1e-4, atol=1e-9)
    assert (measured / measured.mean() - 1).abs().max() <= EQUAL_STEP_TOLERANCE
    even = interpolate.step_mse(bumpy_loop(torch.arange(n) * 2 * math.pi / n))
    assert even.max() / even.min() > 5  # what the equalising is for


def render_small(mm, latents, res=64):
    with torch.no_grad():
        return torch.cat([mm.generator.synthesis(latents[i:i + 8], max_res=res).clamp(-1, 1)
                          for i in range(0, len(latents), 8)])


def test_circle_on_the_generator_is_equal_step_and_closed(mm):
    latents, how, _ = latent_video_path(mm, LatentVideo("circle", seeds=(1, 2), frames=24))
    assert latents.shape == (24, 18, 512) and how.frames == 24
    measured = interpolate.step_mse(render_small(mm, latents, 64))  # the measure_res default
    assert (measured / measured.mean() - 1).abs().max() <= EQUAL_STEP_TOLERANCE
    assert how.circle.spread == pytest.approx(float(measured.max() / measured.min()),
                                                    rel=1e-3)
    centre = seed_latents(mm.generator, [0])[0]
    axes = interpolate.circle_axes(seed_latents(mm.generator, [1, 2])[:, 0] - mm.generator.latent_avg)
    full_turn = interpolate.circle_at(centre, axes, 1.0, torch.tensor([0.0, 2 * math.pi]))
    torch.testing.assert_close(full_turn[1], full_turn[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(latents[0], full_turn[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind,layers", [("coarse", range(0, 4)), ("fine", range(8, 18))])
def test_style_mixing_videos_hold_the_source(mm, kind, layers):
    latents, how, _ = latent_video_path(mm, LatentVideo(kind, seeds=(1, 2, 3), frames_per_segment=4))
    assert latents.shape[0] == 9 and how.layers == list(layers)
    held = [i for i in range(18) if i not in layers]
    source = seed_latents(mm.generator, [0])[0]
    assert torch.equal(latents[:, held], source[held][None].expand(9, -1, -1))
    assert latents[:, list(layers)].std(0).mean() > 0.01  # the mixed layers do move


def test_walk_from_a_photo_and_seeds_renders_every_frame(mm, astronaut, tmp_path):
    video = LatentVideo("walk", image=astronaut, seeds=(3,), frames_per_segment=3, loop=True,
                        fps=12, output_size=64)
    result = latent_video(mm, video, Run(tmp_path / "walk.mp4"))
    meta, frames = read_back(result.video)
    assert frames.shape == (6, 64, 64, 3) and meta["fps"] == 12
    assert len(result.aligned) == 1 and result.how.photos == 1
    inverted = invert(mm, astronaut, run=Run(precision=mm.plan.resolve("auto"))).wplus[0]  # as served
    torch.testing.assert_close(result.latents[0], inverted, atol=1e-5, rtol=0)


def test_slerp_walk_maps_z(mm):
    latents, how, _ = latent_video_path(mm, LatentVideo("walk", seeds=(5, 6), interpolation="slerp",
                                                   frames_per_segment=4, truncation=0.5))
    torch.testing.assert_close(latents[[0, -1]], seed_latents(mm.generator, [5, 6], 0.5), atol=1e-5, rtol=0)
    assert torch.equal(latents[:, 0], latents[:, 17])  # a W path, the same in every layer


@pytest.mark.parametrize("video,match", [
    (LatentVideo("spiral"), "mode must be one of walk, coarse, fine, circle"),
    (LatentVideo(interpolation="bezier"), "interpolation must be one of cubic, slerp"),
    (LatentVideo(seeds=(4,)), "at least two keyframes"),
    (LatentVideo(seeds=(), image=PHOTO), "at least two keyframes"),
    (LatentVideo(image=PHOTO, interpolation="slerp"), "slerp interpolates z"),
    (LatentVideo(frames_per_segment=400), "frames_per_segment must be an integer from 1 to 300"),
    (LatentVideo(seeds=tuple(range(40))), "more than 300"),
    (LatentVideo("circle", seeds=(1,)), "two seeds for its plane"),
    (LatentVideo("circle", seeds=(1, 1)), "the same direction"),
    (LatentVideo("circle", frames=1), "frames must be an integer from 2"),
    (LatentVideo("circle", radius=-1), "radius must be a number from 0 to 10"),
    (LatentVideo("circle", measure_res=48), "measure_res must be one of"),
    (LatentVideo("coarse", layers=[18]), "layers must be W\\+ layer indices from 0 to 17"),
    (LatentVideo(truncation=2), "truncation must be a number from 0 to 1"),
    (LatentVideo(seeds=(-1, 2)), "seed must be an integer from 0"),
])
def test_bad_options_are_clear_errors(mm, video, match):
    with pytest.raises(OptionError, match=match):
        latent_video_path(mm, video)


def test_cli_walk_and_circle(tmp_path):
    from test_cli import run
    out = tmp_path / "walk.mp4"
    r = run("interpolate", "walk", "--synthetic", "--seeds", "1-3", "--frames-per-segment", "2",
            "--loop", "--output-size", "64", "--fps", "10", "--out", str(out))
    assert r.returncode == 0, r.stderr
    meta, frames = read_back(out)
    assert frames.shape == (6, 64, 64, 3) and meta["fps"] == 10
    out = tmp_path / "circle.mp4"
    r = run("interpolate", "circle", "--synthetic", "--frames", "8", "--layers", "0-3",
            "--output-size", "64", "--measure-res", "32", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert read_back(out)[1].shape == (8, 64, 64, 3)


def test_cli_bad_options_fail_before_loading(tmp_path):
    from test_cli import run
    for args, message in [(["walk", "--seeds", "3"], "at least two keyframes"),
                          (["coarse", "--image", str(tmp_path / "none.jpg")], "none.jpg does not exist"),
                          (["fine", "--layers", "x"], "layers must look like"),
                          (["circle", "--frames", "5000"], "frames must be an integer")]:
        r = run("interpolate", *args, "--weights", str(tmp_path), "--no-fetch")
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
