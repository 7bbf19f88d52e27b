"""Paths, frames and real mp4s read back through ffmpeg."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import stylegan2
from conftest import read_back
from micromotion.media import render
from micromotion.errors import OptionError


@pytest.fixture(scope="module")
def gen():
    return stylegan2.synthetic_generator(size=64, style_dim=32, n_mlp=2, max_channels=32, seed=2)




def test_curves():
    assert torch.allclose(render.curve_weights(100, "linear"), torch.arange(100) / 100)
    ease = render.curve_weights(20, "ease")
    assert ease[0] == 0 and abs(ease[-1] - 1) < 1e-6 and (ease.diff() >= 0).all()
    loop = render.curve_weights(20, "loop")
    assert loop[0] == 0 and abs(loop[10] - 1) < 1e-6 and loop[-1] < 0.03
    with pytest.raises(OptionError, match="curve must be one of linear, ease, loop"):
        render.curve_weights(10, "bounce")
    with pytest.raises(OptionError, match="frames must be an integer from 2 to 300, got 1"):
        render.curve_weights(1)


def test_latent_path(gen):
    w = torch.randn(1, gen.n_latent, 32)
    d = torch.randn(gen.n_latent, 32)
    path = render.latent_path(w, d, scale=5, n_frames=100)
    assert path.shape == (100, gen.n_latent, 32)
    assert torch.equal(path[0], w[0])
    assert torch.allclose(path[37], w[0] + 0.37 * 5 * d)  # the original's w + i/100 · scale · d
    with pytest.raises(OptionError, match="scale"):
        render.latent_path(w, d, scale=float("nan"))
    with pytest.raises(OptionError, match="same generator"):
        render.latent_path(torch.randn(3, 32), d)


def test_video_reads_back_with_the_frames_asked_for(gen, tmp_path):
    w = gen.mapping(torch.randn(1, 32, generator=torch.Generator().manual_seed(0)), 0.7)
    w = w[:, None].expand(-1, gen.n_latent, -1)
    d = torch.randn(gen.n_latent, 32, generator=torch.Generator().manual_seed(1)) * 0.2
    latents = render.latent_path(w, d, scale=2, n_frames=12, curve="ease")
    calls = []
    out = render.write_video(render.render_frames(gen, latents, batch_size=5,
                                                  progress=lambda i, n: calls.append((i, n))),
                             tmp_path / "v.mp4", fps=24, gif_path=tmp_path / "v.gif")
    meta, frames = read_back(out)
    assert frames.shape == (12, 64, 64, 3) and meta["fps"] == 24
    assert calls == [(5, 12), (10, 12), (12, 12)]
    with torch.no_grad():
        frame0 = render.to_uint8(gen.synthesis(latents[:1]))[0]
    # H.264 keeps luma at full resolution; yuv420p halves chroma, so colour is compared on
    # 4×4 blocks (the synthetic "faces" are per-pixel colour noise)
    luma = lambda a: a.astype(float) @ [0.299, 0.587, 0.114]  # noqa: E731
    blocks = lambda a: a.astype(float).reshape(16, 4, 16, 4, 3).mean((1, 3))  # noqa: E731
    assert np.abs(luma(frames[0]) - luma(frame0)).mean() < 5
    assert np.abs(blocks(frames[0]) - blocks(frame0)).mean() < 6
    assert np.abs(frames[0].astype(float) - frames[-1]).mean() > 5  # the face moved
    assert Image.open(tmp_path / "v.gif").n_frames == 12


def test_side_by_side_and_size(gen, tmp_path):
    latents = gen.mapping(torch.randn(4, 32), 0.7)[:, None].expand(-1, gen.n_latent, -1)
    left = np.zeros((100, 80, 3), np.uint8)
    out = render.write_video(render.render_frames(gen, latents, size=32), tmp_path / "s.mp4",
                             fps=30, left=left)
    meta, frames = read_back(out)
    assert frames.shape == (4, 32, 26 + 32, 3)  # the photo at the frames' height, its aspect kept
    assert frames[:, :, :26].mean() < 10  # the black input photo on the left


def test_frames_are_clamped_not_normalised():
    img = torch.tensor([[[[-3.0, -1.0], [0.0, 2.0]]]]).expand(1, 3, 2, 2)
    assert render.to_uint8(img)[0, :, :, 0].tolist() == [[0, 0], [128, 255]]


def test_failed_render_leaves_no_file(tmp_path):
    def batches():
        yield np.zeros((2, 16, 16, 3), np.uint8)
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        render.write_video(batches(), tmp_path / "f.mp4")
    assert not (tmp_path / "f.mp4").exists()


@pytest.mark.parametrize("kw,match", [({"fps": 0}, "fps"), ({"fps": 1e9}, "fps")])
def test_bad_fps(tmp_path, kw, match):
    with pytest.raises(OptionError, match=match):
        render.VideoWriter(tmp_path / "x.mp4", **kw)


def test_overlapped_consumes_in_order_and_raises_either_sides_error():
    seen = []
    render.overlapped(iter(range(10)), seen.append)
    assert seen == list(range(10))

    def bad_consumer(item):
        if item == 3:
            raise OptionError("consumer")
        seen.append(item)

    seen.clear()
    with pytest.raises(OptionError, match="consumer"):
        render.overlapped(iter(range(100)), bad_consumer)
    assert seen == [0, 1, 2]

    def bad_producer():
        yield 1
        raise OptionError("producer")

    with pytest.raises(OptionError, match="producer"):
        render.overlapped(bad_producer(), lambda item: None)


def test_a_full_disk_is_a_failed_request_not_a_broken_video(tmp_path):
    """ffmpeg's exit is checked: writing onto a full device (``/dev/full``, behind a link)
    raises the operator's sentence and leaves no file, where a broken mp4 with no index used
    to come back as a success."""
    from micromotion.errors import ServerError
    out = tmp_path / "full.mp4"
    out.symlink_to("/dev/full")
    frames = np.random.default_rng(0).integers(0, 255, (30, 64, 64, 3), np.uint8)
    with pytest.raises(ServerError, match="the server's disk is full, so the video could not "
                                          "be written; nothing was made"):
        render.write_video(iter([frames]), out)
    assert not out.is_symlink() and Path("/dev/full").exists()


def test_odd_sizes_are_encoded_at_the_next_even_size(tmp_path):
    frames = np.full((3, 33, 47, 3), 128, np.uint8)
    meta, back = read_back(render.write_video(iter([frames]), tmp_path / "odd.mp4"))
    assert back.shape == (3, 34, 48, 3) and abs(float(back.mean()) - 128) < 2
