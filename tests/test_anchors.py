"""CLIP guidance and text anchors on synthetic models: batched equals sequential."""
import math

import pytest
import torch

import stylegan2
from micromotion.motions import anchors
from micromotion.nets.clip_guidance import CLIPGuide, load_clip
from micromotion.verify import sha256_of
from micromotion.nets.encoders import load_arcface
from micromotion.errors import MicromotionError, PromptError
from micromotion.nets.synthetic import (synthetic_arcface_state, synthetic_clip_state,
                                   write_synthetic_clip_archive)


@pytest.fixture(scope="module")
def clip():
    return CLIPGuide(synthetic_clip_state(seed=0))


@pytest.fixture(scope="module")
def models(clip):
    gen = stylegan2.synthetic_generator(size=32, style_dim=16, n_mlp=2, max_channels=16, seed=5)
    return gen, clip, load_arcface(synthetic_arcface_state(seed=1))


def test_batched_equals_sequential(models):
    gen, clip, arcface = models
    kw = dict(template="a person with {degree} smile", degrees=["no", "50%", "100%"], seed=3,
              steps=6)
    calls = []
    batched = anchors.text_anchors(gen, clip, arcface, progress=lambda i, n: calls.append((i, n)),
                                   **kw)
    sequential = anchors.text_anchors(gen, clip, arcface, batch_size=1, **kw)
    chunked = anchors.text_anchors(gen, clip, arcface, batch_size=2, **kw)  # 2 + 1
    assert (chunked.latents - sequential.latents).abs().max() <= 1e-5
    assert batched.latents.shape == (3, gen.n_latent, 16)
    assert (batched.latents - sequential.latents).abs().max() <= 1e-5
    assert calls[-1] == (6, 6)
    # the anchors moved away from the seed face, each its own way
    w0 = anchors.seed_latent(gen, 3)
    assert (batched.latents[0] - batched.latents[2]).abs().max() > 1e-4
    assert batched.images.shape == (3, 32, 32, 3)
    assert batched.prompts[1] == "a person with 50% smile"
    assert set(batched.final_losses) == {"clip", "l2", "id"} and len(batched.final_losses["id"]) == 3
    assert w0.shape == (1, 16)


def test_lr_schedule():
    assert anchors.lr_schedule(0.0, 0.1) == 0.0
    assert anchors.lr_schedule(0.5, 0.1) == pytest.approx(0.1)
    assert anchors.lr_schedule(0.9, 0.1) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(0.4 * math.pi)))


@pytest.mark.parametrize("template,degrees,match", [
    ("a person smiling", anchors.DEFAULT_DEGREES, r"has no \{degree\}"),
    ("  ", anchors.DEFAULT_DEGREES, "empty"),
    ("a {degree} smile", ["no"], "at least 2 degrees"),
])
def test_bad_templates(template, degrees, match):
    with pytest.raises(PromptError, match=match):
        anchors.prompts_from_template(template, degrees)


def test_too_long_prompt_is_an_error_not_a_truncation(clip):
    with pytest.raises(PromptError, match="CLIP reads at most 77"):
        clip.tokenize(["smile " * 100])
    ids = clip.tokenize(["a person with no smile"])
    assert ids.shape == (1, 77) and ids[0, 0] == 49406 and (ids[0] == 49407).sum() == 1


def test_clip_pooling_is_the_reference_upsample_and_pool(clip):
    img = torch.rand(2, 3, 64, 64) * 2 - 1
    ref = torch.nn.functional.avg_pool2d(
        torch.nn.functional.interpolate(img, scale_factor=7, mode="nearest"), 2)
    assert (clip.to_clip_input(img) - ref).abs().max() < 1e-5


def test_torchscript_archive_is_checked_and_cached(tmp_path):
    archive = tmp_path / "ViT-B-32.pt"
    write_synthetic_clip_archive(archive, seed=2)
    digest = sha256_of(archive)
    with pytest.raises(MicromotionError, match="sha256 differs"):
        load_clip(archive, cache_dir=tmp_path / "cache")  # not the official digest
    guide = load_clip(archive, expected_sha256=digest, cache_dir=tmp_path / "cache")
    cached = list((tmp_path / "cache").glob("*.state_dict.pt"))
    assert len(cached) == 1
    state = torch.load(cached[0], weights_only=True)  # a plain tensor file
    ref = synthetic_clip_state(seed=2)
    assert set(state) == set(ref)
    archive.unlink()  # later loads read the plain cache, never the TorchScript archive
    again = load_clip(archive, expected_sha256=digest, cache_dir=tmp_path / "cache")
    assert again.resolution == guide.resolution == 224
    with pytest.raises(MicromotionError, match="not found"):
        load_clip(archive, expected_sha256=None, cache_dir=tmp_path / "cache")
