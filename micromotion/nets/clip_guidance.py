"""CLIP ViT-B/32 as a loss on generator images (StyleCLIP's ``CLIPLoss``, ``../shared/reference/
FORMATS.md`` §6).

The model and tokenizer are the ``openai-clip`` package's own ``model.py`` and
``simple_tokenizer.py``, loaded as files: the package ``__init__`` imports ``pkg_resources`` and
torchvision, which are not available. The official weights are a TorchScript archive, which
``weights_only`` loading cannot read: its sha256 is checked, its state dict taken once through
``torch.jit.load`` and cached as a plain tensor file, so later loads never run TorchScript.

Images are fed as the paper's code did: the generator's [-1, 1] output, upsampled ×7 (nearest)
and average-pooled to 224, **without** CLIP's mean/std normalisation. The upsample+pool is a
fixed linear map, applied here as two small matrices instead of a 7168² intermediate. The loss
is ``1 − exp(logit_scale)·cos(image, text)/100``.
"""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Mapping

import torch

import stylegan2

from ..errors import MicromotionError, PromptError
from ..verify import recorded, sha256_of
from ..weights import manifest, plain_path, plain_state

CLIP_FILE = "ViT-B-32.pt"
CONTEXT = 77
_modules: dict[str, ModuleType] = {}


def clip_module(name: str) -> ModuleType:
    """``clip/model.py`` or ``clip/simple_tokenizer.py`` of the installed package, run as a
    standalone module."""
    if name not in _modules:
        spec = importlib.util.find_spec("clip")
        if spec is None or not spec.submodule_search_locations:
            raise MicromotionError("the openai-clip package is not installed (pip install "
                                   "openai-clip==1.0.1)")
        path = Path(list(spec.submodule_search_locations)[0]) / f"{name}.py"
        mspec = importlib.util.spec_from_file_location(f"micromotion._clip_{name}", path)
        module = importlib.util.module_from_spec(mspec)
        mspec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def official_sha256() -> str:
    """The official ViT-B/32 archive's sha256, as the weights manifest gives it."""
    return manifest()["clip-vit-b-32"]["sha256"]


def clip_state_dict(path: str | os.PathLike, expected_sha256: str | None = None,
                    cache_dir: str | os.PathLike | None = None) -> dict:
    """The plain state dict of the TorchScript archive at ``path`` (sha256-checked), from the
    plain file ``weights.plain_state`` writes once in ``cache_dir`` (default: beside the
    archive, where ``python -m micromotion.weights fetch`` put it before an image was built;
    a read-only folder: ``$MICROMOTION_CACHE/clip``)."""
    path = Path(path)
    if expected_sha256:  # the plain file is named by the digest: no need to read the archive
        for folder in _cache_folders(path, cache_dir):
            plain = plain_path(path, expected_sha256, folder)
            if plain.is_file():
                return _plain(torch.load(plain, map_location="cpu", weights_only=True,
                                         mmap=True))
    if not path.is_file():
        raise MicromotionError(f"CLIP weights {path} not found")
    digest = expected_sha256 or sha256_of(path)
    if expected_sha256 and recorded(path) != expected_sha256 and \
            sha256_of(path) != expected_sha256:  # verified at fetch time: not hashed again
        raise MicromotionError(f"{path} is not the official CLIP ViT-B/32 file (sha256 differs "
                               f"from {expected_sha256}); download it again")
    for folder in _cache_folders(path, cache_dir):
        try:
            plain = plain_state(path, digest, folder)
            break
        except OSError:
            continue  # a read-only folder: the next
        except Exception as exc:  # the archive is not TorchScript (jit's many errors)
            raise MicromotionError(f"{path} is not a CLIP TorchScript archive ({exc})") from exc
    else:
        raise MicromotionError(f"CLIP's plain weights could not be written beside {path.name} "
                               f"nor in MICROMOTION_CACHE: give the server a writable folder")
    return _plain(torch.load(plain, map_location="cpu", weights_only=True, mmap=True))


def _cache_folders(path: Path, cache_dir: str | os.PathLike | None) -> list[Path]:
    if cache_dir:
        return [Path(cache_dir)]
    return [path.parent, stylegan2.ops.plugin.cache_root() / "clip"]


def _plain(state: dict) -> dict:
    """The model's tensors alone (the archive also holds its input size and vocabulary)."""
    return {k: v for k, v in state.items()
            if k not in ("input_resolution", "context_length", "vocab_size")}


@functools.lru_cache(maxsize=1)
def _tokenizer():
    return clip_module("simple_tokenizer").SimpleTokenizer()


def token_ids(texts: list[str]) -> list[list[int]]:
    """Each prompt's CLIP token ids, start and end tokens included (no model needed, so a
    request is checked before any loads); an empty prompt, or one longer than CLIP's
    ``CONTEXT`` of 77 tokens, is a ``PromptError``."""
    tokenizer = _tokenizer()
    sot, eot = tokenizer.encoder["<|startoftext|>"], tokenizer.encoder["<|endoftext|>"]
    out = []
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise PromptError("a prompt is empty: describe the motion, e.g. "
                              "'a person with {degree} smile'")
        ids = [sot] + tokenizer.encode(text) + [eot]
        if len(ids) > CONTEXT:
            raise PromptError(f"the prompt {text[:60]!r}… is {len(ids)} tokens; CLIP reads at "
                              f"most {CONTEXT}: shorten the text template")
        out.append(ids)
    return out


class CLIPGuide:
    """A CLIP model (float32, frozen) and its tokenizer, as a loss for generator images."""

    def __init__(self, state: Mapping[str, torch.Tensor]):
        model = clip_module("model").build_model(dict(state))
        self.model = model.float().eval().requires_grad_(False)
        self.resolution = self.model.visual.input_resolution
        self._pool: dict[tuple, torch.Tensor] = {}

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        """``[N, 77]`` token ids; a prompt longer than CLIP's context is an error."""
        out = torch.zeros(len(texts), CONTEXT, dtype=torch.long)
        for i, ids in enumerate(token_ids(texts)):
            out[i, :len(ids)] = torch.tensor(ids)
        return out

    @torch.no_grad()
    def text_features(self, texts: list[str]) -> torch.Tensor:
        """Unit text features ``[N, E]``."""
        f = self.model.encode_text(self.tokenize(texts).to(self._device()))
        return f / f.norm(dim=-1, keepdim=True)

    def to_clip_input(self, images: torch.Tensor) -> torch.Tensor:
        """``[N, 3, S, S]`` → ``[N, 3, 224, 224]``: nearest ×7 then average pooling by 7S/224,
        exactly, as two ``[224, S]`` matrices."""
        a = self._pool_matrix(images.shape[-1], images.device, images.dtype)
        return torch.einsum("ih,nchw,jw->ncij", a, images, a)

    def _pool_matrix(self, size: int, device, dtype) -> torch.Tensor:
        key = (size, device, dtype)
        if key not in self._pool:
            r = self.resolution
            if (7 * size) % r:
                raise ValueError(f"image size {size} does not pool to {r} after ×7")
            k = 7 * size // r
            u = torch.arange(7 * size)
            a = torch.zeros(r, size, dtype=torch.float64)
            a.index_put_((u // k, u // 7), torch.full((7 * size,), 1.0 / k, dtype=torch.float64),
                          accumulate=True)
            self._pool[key] = a.to(device, dtype)
        return self._pool[key]

    def loss(self, images: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
        """images ``[N, 3, S, S]`` in [-1, 1], unit text features ``[N, E]`` → per-pair loss
        ``[N]`` = 1 − exp(logit_scale)·cos(image_i, text_i)/100."""
        f = self.model.encode_image(self.to_clip_input(images))
        f = f / f.norm(dim=-1, keepdim=True)
        return 1 - self.model.logit_scale.exp() * (f * text_features).sum(-1) / 100

    def _device(self):
        return self.model.text_projection.device


def load_clip(source: str | os.PathLike | Mapping, expected_sha256: str | None = "official",
              cache_dir: str | os.PathLike | None = None) -> CLIPGuide:
    """A ``CLIPGuide`` from the official archive (or a state dict); ``expected_sha256``: the
    archive's digest ("official": the manifest's; None: unchecked)."""
    if expected_sha256 == "official":
        expected_sha256 = official_sha256()
    state = source if isinstance(source, Mapping) else clip_state_dict(source, expected_sha256,
                                                                       cache_dir)
    return CLIPGuide(state)
