"""Seeded synthetic checkpoints of the encoders and ArcFace, in the official layouts
(``../shared/reference/FORMATS.md`` §2, 4, 5), for tests and ``--synthetic`` runs. The generator's
own are in ``stylegan2.synthetic``. Random weights: they run the real code paths, but do not
recognise faces."""
from __future__ import annotations

import torch
from torch import nn

import stylegan2

from .encoders.irse import ArcFace
from .encoders.psp import ITERATIVE, PSPEncoder


def _perturb(module: nn.Module, head_scale: float) -> None:
    """Move BatchNorm statistics, PReLU slopes and biases off their initial values, and scale
    the heads' last linear layers so that W+ offsets stay of the order of the latents."""
    with torch.no_grad():
        for name, m in module.named_modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, nn.PReLU):
                m.weight.uniform_(0.1, 0.4)
            elif name.endswith("linear"):
                m.weight.mul_(head_scale)
                m.bias.normal_(0, 0.01)


def synthetic_encoder(encoder_type: str, n_styles: int = 18, style_dim: int = 512,
                      seed: int = 0, head_scale: float = 0.05) -> PSPEncoder:
    """A seeded encoder network with perturbed statistics (see ``_perturb``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = PSPEncoder(encoder_type, n_styles, style_dim)
        _perturb(net, head_scale)
    return net


def encoder_checkpoint(net: PSPEncoder, generator: stylegan2.Generator,
                       decoder_state: dict | None = None, input_size: int = 256) -> dict:
    """``net`` packed as the official files are: ``{'state_dict': {'encoder.*'[, 'decoder.*']},
    'opts', 'latent_avg' [n_latent, D]}`` (the generator's mean repeated per layer).
    ``input_size`` other than 256 (the official one) is stored in ``opts`` for small tests."""
    state = {f"encoder.{k}": v for k, v in net.state_dict().items()}
    state.update(decoder_state or {})
    opts = {"encoder_type": net.encoder_type,
            "input_nc": 6 if net.encoder_type in ITERATIVE else 3,
            "output_size": generator.size, "stylegan_size": generator.size,
            "dataset_type": "ffhq_encode", "n_iters_per_batch": 5, "start_from_latent_avg": True,
            "device": "cuda:0", "checkpoint_path": None}
    if input_size != 256:
        opts["input_size"] = input_size
    return {"state_dict": state, "opts": opts,
            "latent_avg": generator.latent_avg.repeat(generator.n_latent, 1)}


def synthetic_encoder_checkpoint(encoder_type: str = "BackboneEncoder", *, seed: int = 0,
                                 input_size: int = 256, head_scale: float = 0.05,
                                 **generator_kwargs) -> dict:
    """An official-layout encoder checkpoint with a synthetic generator
    (``stylegan2.synthetic_checkpoint`` arguments) as its ``decoder.*``."""
    gen_ckpt = stylegan2.synthetic_checkpoint("psp", seed=seed, **generator_kwargs)
    gen = stylegan2.load_generator(gen_ckpt)
    net = synthetic_encoder(encoder_type, gen.n_latent, gen.style_dim, seed + 1, head_scale)
    return encoder_checkpoint(net, gen, gen_ckpt["state_dict"], input_size)


def synthetic_arcface_state(seed: int = 0) -> dict:
    """A bare IR-SE50 ArcFace state dict, as ``model_ir_se50.pth`` is stored."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ArcFace()
        _perturb(net, 1.0)
    return net.state_dict()


def synthetic_clip_state(seed: int = 0, width: int = 64, embed_dim: int = 32,
                         layers: int = 1) -> dict:
    """A CLIP ViT in the official state-dict layout: the real 49,408-token vocabulary and
    77-token context, 224 px with 32 px patches; by default small (one layer each side).
    ``width=768, embed_dim=512, layers=12`` has ViT-B/32's sizes (its text side is then 512
    wide, as in ViT-B/32), for benchmarks."""
    from .clip_guidance import clip_module

    CLIP = clip_module("model").CLIP
    text_width = min(width, 512)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIP(embed_dim, 224, layers, width, 32, 77, 49408, text_width,
                     max(1, text_width // 64), layers)
    return model.state_dict()


def write_synthetic_clip_archive(path, seed: int = 0, **sizes) -> None:
    """The synthetic CLIP as a TorchScript archive, the form of the official ``ViT-B-32.pt``
    (``sizes``: ``synthetic_clip_state``'s, e.g. ViT-B/32's own)."""
    import warnings

    from .clip_guidance import clip_module

    model = clip_module("model").build_model(synthetic_clip_state(seed, **sizes)).float().eval()
    image, text = torch.zeros(1, 3, 224, 224), torch.zeros(1, 77, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(model, (image, text), check_trace=False), str(path))
