"""Encoders and ArcFace: the official layouts (FORMATS.md §2, 4, 5), strict loading, inversion."""
import pytest
import torch

import stylegan2
from micromotion.nets import encoders
from micromotion.nets.encoders import ArcFace, load_arcface, load_encoder
from micromotion.nets.encoders.psp import ENCODER_TYPES, ITERATIVE, PSPEncoder
from micromotion.errors import EncoderCheckpointError
from micromotion.nets.synthetic import synthetic_arcface_state, synthetic_encoder_checkpoint

GEN = dict(size=64, style_dim=32, n_mlp=2, max_channels=32)
TYPES = ENCODER_TYPES


def official(encoder_type):
    with torch.device("meta"):
        return PSPEncoder(encoder_type, 18, 512)


def counts(module):
    sd = module.state_dict()
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for b in module.buffers())
    return len(sd), params, buffers


@pytest.mark.parametrize("encoder_type,keys,params", [
    ("BackboneEncoder", 565, 205_585_792), ("ProgressiveBackboneEncoder", 565, 205_585_792),
    ("GradualStyleEncoder", 621, 267_136_704), ("Encoder4Editing", 621, 267_136_704)])
def test_official_encoder_layouts(encoder_type, keys, params):
    net = official(encoder_type)
    n_keys, n_params, n_buffers = counts(net)
    assert (n_keys, n_params) == (keys, params)
    sd = net.state_dict()
    nc = 6 if encoder_type in ITERATIVE else 3
    assert sd["input_layer.0.weight"].shape == (64, nc, 3, 3)
    assert {k.split(".")[1] for k in sd if "shortcut_layer.0" in k} == {"3", "7", "21"}
    assert sd["body.21.res_layer.5.fc1.weight"].shape == (32, 512, 1, 1)
    assert sd["styles.17.linear.weight"].shape == (512, 512)
    if nc == 3:
        assert n_buffers == 24_372
        assert sd["latlayer1.weight"].shape == (512, 256, 1, 1)
        assert sd["latlayer2.weight"].shape == (512, 128, 1, 1)
        assert "styles.3.convs.8.weight" in sd and "styles.2.convs.8.weight" not in sd
        assert "styles.7.convs.10.weight" in sd and "styles.6.convs.10.weight" not in sd
    else:
        assert not any(k.startswith("latlayer") or ".convs.8." in k for k in sd)


def test_official_arcface_layout():
    with torch.device("meta"):
        net = ArcFace()
    assert counts(net) == (397, 43_797_696, 26_422)
    keys = list(net.state_dict())
    assert keys[:7][0].startswith("input_layer") and keys[7].startswith("output_layer")
    assert all(k.startswith("output_layer") for k in keys[7:19]) and keys[19].startswith("body")
    assert net.state_dict()["output_layer.3.weight"].shape == (512, 25088)


@pytest.fixture(scope="module", params=TYPES)
def ckpt_file(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("enc") / f"{request.param}.pt"
    torch.save(synthetic_encoder_checkpoint(request.param, input_size=64, **GEN), path)
    return request.param, path


def images(n, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def test_load_and_invert_every_type(ckpt_file):
    encoder_type, path = ckpt_file
    enc = load_encoder(path)
    assert enc.encoder_type == encoder_type and enc.input_size == 64
    w = enc.invert(images(3))
    assert w.shape == (3, enc.generator.n_latent, 32) and torch.isfinite(w).all()
    # inversion of a batch equals inversion one by one
    one = torch.cat([enc.invert(images(3)[i:i + 1]) for i in range(3)])
    assert (w - one).abs().max() < 1e-4


def test_restyle_recurrence_and_average_face_cached(monkeypatch):
    enc = load_encoder(synthetic_encoder_checkpoint("BackboneEncoder", input_size=64, **GEN))
    x = images(2, seed=1)
    calls = []
    real = enc.generator.synthesis
    monkeypatch.setattr(enc.generator, "synthesis", lambda *a, **k: calls.append(1) or real(*a, **k))
    w = enc.invert(x, iterations=3)
    assert len(calls) == 2  # 3 iterations → 2 decodes; the average face is not redone
    with torch.no_grad():  # the recurrence written out: codes_k = E([x, y_k]) + codes_{k-1}
        codes = enc.latent_avg.expand(2, -1, -1)
        y = enc.decode(enc.latent_avg[None]).expand(2, -1, -1, -1)
        for k in range(3):
            codes = codes + enc.net(torch.cat([x, y], 1))
            y = enc.decode(codes)
    assert (w - codes).abs().max() < 1e-5


def test_single_pass_adds_latent_avg_when_told():
    ckpt = synthetic_encoder_checkpoint("Encoder4Editing", input_size=64, **GEN)
    x = images(1)
    with_avg = load_encoder(ckpt).invert(x)
    ckpt["opts"]["start_from_latent_avg"] = False
    without = load_encoder(ckpt).invert(x)
    assert torch.allclose(with_avg - without, load_encoder(ckpt).latent_avg.expand_as(without),
                          atol=1e-5)


def test_given_generator_is_used_and_decoder_not_needed():
    ckpt = synthetic_encoder_checkpoint("BackboneEncoder", input_size=64, **GEN)
    gen = stylegan2.load_generator({"state_dict": ckpt["state_dict"]})
    no_decoder = dict(ckpt, state_dict={k: v for k, v in ckpt["state_dict"].items()
                                        if k.startswith("encoder.")})
    enc = load_encoder(no_decoder, generator=gen)
    assert enc.generator is gen
    assert torch.allclose(enc.invert(images(1)), load_encoder(ckpt).invert(images(1)), atol=1e-5)


@pytest.mark.parametrize("edit,match", [
    (lambda c: c["state_dict"].pop("encoder.body.5.res_layer.1.weight"), "missing keys encoder|missing keys body.5"),
    (lambda c: c["state_dict"].update({"encoder.extra.weight": torch.zeros(1)}), "unexpected keys extra.weight"),
    (lambda c: c["state_dict"].update({"encoder.input_layer.0.weight": torch.zeros(64, 3, 3, 3)}),
     r"input_layer.0.weight: expected \[64, 6, 3, 3\], found \[64, 3, 3, 3\]"),
    (lambda c: c["opts"].update(encoder_type="ResNetBackboneEncoder"), "unsupported encoder_type"),
    (lambda c: c.pop("opts"), "needs 'state_dict' and 'opts'"),
    (lambda c: c.update(latent_avg=torch.zeros(7, 32)), "latent_avg must be"),
])
def test_bad_encoder_checkpoints(edit, match):
    ckpt = synthetic_encoder_checkpoint("BackboneEncoder", input_size=64, **GEN)
    ckpt = dict(ckpt, state_dict=dict(ckpt["state_dict"]), opts=dict(ckpt["opts"]))
    edit(ckpt)
    with pytest.raises(EncoderCheckpointError, match=match):
        load_encoder(ckpt)


def test_generator_file_is_not_an_encoder(tmp_path):
    path = stylegan2.write_synthetic_checkpoint(tmp_path / "g.pt", size=16, style_dim=16,
                                                n_mlp=1, max_channels=16)
    with pytest.raises(EncoderCheckpointError, match="not a pSp/ReStyle/e4e encoder"):
        load_encoder(path)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(EncoderCheckpointError, match="not a readable PyTorch checkpoint"):
        load_encoder(tmp_path / "junk.pt")


def test_bad_inversion_inputs(ckpt_file):
    enc = load_encoder(ckpt_file[1])
    with pytest.raises(ValueError, match=r"\[N, 3, 64, 64\]"):
        enc.invert(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="iterations"):
        enc.invert(images(1), iterations=0)


def test_arcface_loads_strictly_and_gives_unit_features():
    state = synthetic_arcface_state(seed=1)
    net = load_arcface(state)
    f = net.id_features(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert f.shape == (2, 512) and torch.allclose(f.norm(dim=1), torch.ones(2), atol=1e-5)
    bad = dict(state)
    bad.pop("output_layer.3.bias")
    with pytest.raises(EncoderCheckpointError, match="missing keys output_layer.3.bias"):
        load_arcface(bad)


def test_preprocess_matches_the_training_transform():
    from PIL import Image
    import numpy as np
    img = Image.fromarray(np.full((300, 200, 3), (0, 128, 255), np.uint8))
    x = encoders.preprocess([img, img], 256)
    assert x.shape == (2, 3, 256, 256)
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([-1.0, (128 / 255 - 0.5) / 0.5, 1.0]), atol=1e-7)
