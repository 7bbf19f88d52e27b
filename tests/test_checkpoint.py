"""Loading: every accepted layout, inferred architectures, and a clear error for each bad file."""
import argparse
import re

import pytest
import torch

import stylegan2
from conftest import latents


def same_output(a, b, gen_ref):
    w = latents(2, gen_ref)
    with torch.no_grad():
        return torch.equal(a.synthesis(w), b.synthesis(w))


@pytest.mark.parametrize("layout", ["rosinality", "bare", "psp"])
def test_layouts_load_to_the_same_generator(tmp_path, small_ckpt, small_gen, layout):
    from conftest import SMALL_CHANNELS
    kw = dict(size=64, style_dim=32, n_mlp=2, channels=SMALL_CHANNELS, seed=3)
    path = stylegan2.write_synthetic_checkpoint(tmp_path / f"{layout}.pt", layout, **kw)
    gen = stylegan2.load_generator(path)
    assert same_output(gen, small_gen, small_gen)
    if layout == "bare":
        assert gen.latent_avg_estimated
    else:
        assert torch.allclose(gen.latent_avg, small_gen.latent_avg)


@pytest.mark.parametrize("size,cm,dim,n_mlp", [(32, 1, 16, 1), (256, 1, 32, 3), (128, 2, 64, 8)])
def test_architecture_is_inferred(size, cm, dim, n_mlp):
    ckpt = stylegan2.synthetic_checkpoint(size=size, style_dim=dim, n_mlp=n_mlp,
                                          channel_multiplier=cm, max_channels=64)
    gen = stylegan2.load_generator(ckpt)
    assert (gen.size, gen.style_dim, gen.n_mlp) == (size, dim, n_mlp)
    assert gen.n_latent == 2 * size.bit_length() - 4
    cfg = stylegan2.infer_config(ckpt["g_ema"])
    assert cfg["channels"] == {r: min(c, 64) for r, c in
                               stylegan2.model.default_channels(cm).items() if r <= size}


def test_ffhq_1024_layout_matches_formats_md():
    """FORMATS.md §1: 171 keys, 30,370,060 parameters, n_latent 18, noises last."""
    gen = stylegan2.Generator(1024, 512, 8)
    sd = gen.state_dict()
    assert len(sd) == 171
    assert sum(p.numel() for p in gen.parameters()) == 30_370_060
    assert gen.n_latent == 18 and gen.num_layers == 17
    assert list(sd)[-17:] == [f"noises.noise_{i}" for i in range(17)]
    assert sd["convs.14.conv.weight"].shape == (1, 32, 64, 3, 3)
    assert stylegan2.Generator(256, 512, 8).n_latent == 14


def test_fp16_weights_load_as_fp32(small_ckpt, small_gen):
    half = {"g_ema": {k: v.half() for k, v in small_ckpt["g_ema"].items()},
            "latent_avg": small_ckpt["latent_avg"].half()}
    gen = stylegan2.load_generator(half)
    assert all(t.dtype == torch.float32 for t in gen.state_dict().values())
    w = latents(1, small_gen)
    with torch.no_grad():
        assert (gen.synthesis(w) - small_gen.synthesis(w)).abs().max() < 0.05


def test_loaded_generator_is_frozen(small_gen):
    assert not small_gen.training
    assert not any(p.requires_grad for p in small_gen.parameters())


def test_missing_key_is_named(small_ckpt):
    g = dict(small_ckpt["g_ema"])
    del g["convs.1.noise.weight"]
    with pytest.raises(stylegan2.ArchitectureMismatchError, match=r"missing keys convs\.1\.noise\.weight"):
        stylegan2.load_generator({"g_ema": g})


def test_unexpected_key_is_named(small_ckpt):
    g = dict(small_ckpt["g_ema"], **{"convs.0.extra": torch.zeros(1)})
    with pytest.raises(stylegan2.ArchitectureMismatchError, match=r"unexpected keys convs\.0\.extra"):
        stylegan2.load_generator({"g_ema": g})


def test_wrong_shape_is_named(small_ckpt):
    g = dict(small_ckpt["g_ema"])
    g["to_rgbs.0.bias"] = torch.zeros(1, 4, 1, 1)
    with pytest.raises(stylegan2.ArchitectureMismatchError,
                       match=re.escape("to_rgbs.0.bias: expected [1, 3, 1, 1], found [1, 4, 1, 1]")):
        stylegan2.load_generator({"g_ema": g})


def test_other_architecture_is_refused(tmp_path):
    path = tmp_path / "resnet.pt"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.weight": torch.zeros(10, 64)}, path)
    with pytest.raises(stylegan2.ArchitectureMismatchError, match="not a StyleGAN2 generator"):
        stylegan2.load_generator(path)


def test_encoder_only_psp_file_is_refused():
    with pytest.raises(stylegan2.ArchitectureMismatchError, match="no 'decoder"):
        stylegan2.load_generator({"state_dict": {"encoder.x": torch.zeros(1)}})


def test_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("hello")
    with pytest.raises(stylegan2.NotACheckpointError, match=str(path)):
        stylegan2.load_generator(path)


def test_truncated_file(tmp_path, small_ckpt):
    full = tmp_path / "full.pt"
    torch.save(small_ckpt, full)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(stylegan2.NotACheckpointError, match="truncated"):
        stylegan2.load_generator(cut)


def test_missing_file(tmp_path):
    with pytest.raises(stylegan2.NotACheckpointError, match="does not exist"):
        stylegan2.load_generator(tmp_path / "nope.pt")


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("obj", [Payload(), argparse.Namespace(size=1024)],
                         ids=["code", "training-args"])
def test_pickled_objects_are_never_unpickled(tmp_path, small_ckpt, obj, capsys):
    path = tmp_path / "evil.pt"
    torch.save(dict(small_ckpt, args=obj), path)
    with pytest.raises(stylegan2.UnsafeCheckpointError, match="never unpickled"):
        stylegan2.load_generator(path)
    assert "must never run" not in capsys.readouterr().out


def test_torchscript_archive_is_named(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(stylegan2.NotACheckpointError, match="TorchScript"):
        stylegan2.load_generator(path)


@pytest.mark.parametrize("bad,match", [
    (torch.zeros(2, 5, 32), r"w must have shape \[N, 32\] or \[N, 10, 32\], got \[2, 5, 32\]"),
    (torch.zeros(2, 31), r"w must have shape \[N, 32\] or \[N, 10, 32\], got \[2, 31\]"),
    (torch.zeros(2, 10, 32, dtype=torch.long), "floating-point"),
    (torch.zeros(0, 10, 32), r"got \[0, 10, 32\]"),
    ([[0.0] * 32], "torch.Tensor"),
])
def test_bad_latents(small_gen, bad, match):
    with pytest.raises(stylegan2.LatentShapeError, match=match):
        small_gen.synthesis(bad)


def test_bad_z(small_gen):
    with pytest.raises(stylegan2.LatentShapeError, match=r"z must have shape \[N, 32\]"):
        small_gen.mapping(torch.zeros(1, 512))


@pytest.mark.parametrize("kw,match", [({"noise_mode": "loud"}, "noise_mode"),
                                      ({"max_res": 48}, "max_res"), ({"max_res": 128}, "max_res"),
                                      ({"impl": "cuda"}, "impl must be one of")])
def test_bad_synthesis_options(small_gen, kw, match):
    with pytest.raises(ValueError, match=match):
        small_gen.synthesis(latents(1, small_gen), **kw)
