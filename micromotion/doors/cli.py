"""``python -m micromotion``: the command line door. Its options are the request table's
(``fields.FIELDS``: names, defaults, limits and help); each command maps them to a request,
checks it before loading any model, and serves it. Errors a user can cause exit with code 2
and one sentence; anything else is a bug and shows its traceback. Progress and notes go to
stderr; the written file's path to stdout."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import stylegan2

from ..errors import MicromotionError, OptionError
from ..fields import FIELDS, KINDS, cli_options
from ..requests.checks import check_animate, check_request
from ..motions import request_motions
from ..requests.request import Animate, Edit, LatentVideo, Transfer, file_name
from ..progress import shown
from ..run import Run
from ..latents.samples import parse_seeds, render_seeds
from .. import weights
from ..weights import synthetic_requested

# each command's use → the request its options build
REQUESTS = {"animate": Animate, "direction": Animate, "transfer": Transfer,
            "latent": LatentVideo, "edit": Edit}


def add_fields(parser: argparse.ArgumentParser, use: str) -> None:
    """The command's options, one per field the table gives its ``use`` (``cli_options``),
    ``--name-with-dashes``: its help in the use's words, saying what it takes and the
    default of the request the command builds."""
    request = REQUESTS.get(use)
    defaults = {f.name: f.default for f in dataclasses.fields(request)} if request else {}
    for f in cli_options(use):
        default = defaults.get(f.name, f.default)
        flag = "--" + f.name.replace("_", "-")
        if f.type is bool:
            parser.add_argument(flag, action="store_true", help=f.help_for(use))
            continue
        kind = {int: int, float: float}.get(f.type, str)
        said = "" if default in (None, "", ()) else f"; default {default}"
        many = {"nargs": "+"} if isinstance(default, tuple) else {}  # a list of files
        parser.add_argument(flag, type=kind, metavar=f.name.upper(), default=default,
                            help=f"{f.help_for(use)} ({f.allowed()}{said})".replace("%", "%%"),
                            **many)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m micromotion",
                                     description="Animate faces with StyleGAN2 micromotions.")
    sub = parser.add_subparsers(dest="command", required=True)
    models = _models_options()
    s = sub.add_parser("sample", help="render faces from seeds with the StyleGAN2 generator")
    s.add_argument("--checkpoint", default=None,
                   help="generator checkpoint (default stylegan2-ffhq-config-f.pt in the weights "
                        "folder)")
    s.add_argument("--weights", default=None,
                   help="weights folder (default $MICROMOTION_WEIGHTS or weights/)")
    s.add_argument("--synthetic", action="store_true",
                   help="use a seeded synthetic 256px generator (abstract patterns, not faces)")
    s.add_argument("--seeds", default="0-3", help="e.g. 0-3 or 1,5,9 (default 0-3)")
    add_fields(s, "sample")
    s.add_argument("--size", type=int, default=None,
                   help="output size (power of two ≤ the generator's)")
    s.add_argument("--out", default="outputs", help="output folder (default outputs)")

    a = sub.add_parser("animate", parents=[models],
                       help="photo + motion (preset, file, words, clip or timeline) → mp4")
    a.add_argument("image", metavar="PHOTO", help=FIELDS["image"].help_for("animate"))
    add_fields(a, "animate")
    a.add_argument("--out", default=None, help="output mp4 (default outputs/<photo>-<motion>.mp4: <motion> the preset's name, "
                        "text, the clip's or file's name, or timeline)")
    a.add_argument("--gif", default=None, help="also write a GIF here")
    a.add_argument("--save-direction", default=None,
                   help="also keep the direction made from words or a clip in this file")

    d = sub.add_parser("direction", parents=[models],
                       help="words, a clip or labelled latents → a direction file")
    add_fields(d, "direction")
    d.add_argument("--out", required=True, help="the direction file to write (e.g. smile.pt)")
    d.add_argument("--labels", default=None,
                   help="labelled latents (.npz with latents and labels, or .csv: label, latent…)")
    d.add_argument("--estimator", default="pairs", choices=["pairs", "classifier"],
                   help="for --labels: mean pair slope or logistic-regression normal")

    t = sub.add_parser("transfer", parents=[models],
                       help="a driving clip's motion, at its timing, onto the face of a photo")
    t.add_argument("image", metavar="PHOTO", help=FIELDS["image"].help_for("transfer"))
    t.add_argument("driving_video", metavar="DRIVING", help=FIELDS["driving_video"].help +
                   " Or a photo of the driver mid-motion, with --neutral-image.")
    add_fields(t, "transfer")
    t.add_argument("--out", default=None, help="output mp4 (default outputs/<photo>-transfer.mp4)")
    t.add_argument("--gif", default=None, help="also write a GIF here")

    e = sub.add_parser("edit", parents=[models],
                       help="your own video: its face makes a motion over the seconds you "
                            "choose, the rest and its sound kept")
    e.add_argument("video", metavar="VIDEO", help=FIELDS["video"].help_for("edit"))
    add_fields(e, "edit")
    e.add_argument("--out", default=None, help="output mp4 (default outputs/<video>-<motion>.mp4)")

    i = sub.add_parser("interpolate", parents=[models],
                       help="latent videos: a walk through seeds or photos, coarse or fine "
                            "style mixing, an equal-step circular loop")
    i.add_argument("mode", choices=KINDS, help="walk, coarse or fine (style mixing), circle")
    add_fields(i, "latent")
    i.add_argument("--gif", default=None, help="also write a GIF here")
    i.add_argument("--out", default=None, help="output mp4 (default outputs/<mode>.mp4)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = {"sample": _sample, "animate": _animate, "direction": _direction,
               "transfer": _transfer, "interpolate": _interpolate, "edit": _edit}[args.command]
    try:
        return command(args)
    except (MicromotionError, stylegan2.CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _models_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--encoder", default="restyle_psp", choices=list(weights.encoders()),
                   help="the encoder that inverts photos into W+ (default restyle_psp: the "
                        "closest likeness)")
    p.add_argument("--weights", default=None, help="weights folder (default $MICROMOTION_WEIGHTS or weights/)")
    p.add_argument("--no-fetch", action="store_true",
                   help="never download missing weights (default: fetch them on first use)")
    p.add_argument("--synthetic", action="store_true",
                   help="synthetic weights (abstract patterns, not faces): try the whole path offline")
    return p


def _request(use: str, args, *positional: str) -> Animate | Transfer | LatentVideo:
    """The request of the command for ``use`` from its parsed options (and ``positional``
    arguments)."""
    names = list(positional) + [f.name for f in cli_options(use)]
    return REQUESTS[use](**{n: getattr(args, n) for n in names})


def _load(args):
    from ..nets.models import Models
    if args.synthetic or synthetic_requested():
        print("note: synthetic weights (seeded random models): the video shows abstract "
              "patterns, not faces", file=sys.stderr)
        models = Models.synthetic(args.weights, fetch=not args.no_fetch)
    else:
        with shown("B") as progress:
            models = Models.load(args.weights, args.encoder, fetch=not args.no_fetch,
                                 progress=progress)
    return models


def _serve(req, args, out: Path, gif=None):
    """Load the models (the request is checked already), serve, say the notes and how."""
    from . import serving, wording
    models = _load(args)
    with shown() as progress:
        result = serving.serve(req, models, out, progress=progress, gif=gif)
    print(wording.said(result), file=sys.stderr)
    print(result.video)
    return result


def _animate(args) -> int:
    req = check_request(_request("animate", args, "image"))
    result = _serve(req, args, _out(args, req), args.gif)
    if args.save_direction and result.anchor_images is not None:
        _save_direction(result.direction, result.anchor_images, args.save_direction)
    return 0


def _transfer(args) -> int:
    req = _request("transfer", args, "image", "driving_video")
    if req.neutral_image:  # DRIVING is then the driver's photo mid-motion
        req.driving_image, req.driving_video = req.driving_video, None
    req = check_request(req)
    _serve(req, args, _out(args, req), args.gif)
    return 0


def _edit(args) -> int:
    req = check_request(_request("edit", args, "video"))
    _serve(req, args, _out(args, req))
    return 0


def _interpolate(args) -> int:
    req = check_request(_request("latent", args, "mode"))
    _serve(req, args, _out(args, req), args.gif)
    return 0


def _out(args, req) -> Path:
    """``--out``, else the file name every door gives the request, in outputs/."""
    return Path(args.out or Path("outputs") / file_name(req))


def _direction(args) -> int:
    if args.labels:  # no models needed: the latents are given
        from ..latents.labels import direction_from_labels, load_labelled
        _save_direction(direction_from_labels(*load_labelled(args.labels), args.estimator),
                        None, args.out)
        return 0
    if not (args.text_template or args.anchor_video):
        raise OptionError("give --text-template 'a person with {degree} smile', "
                          "--anchor-video CLIP or --labels FILE")
    req = check_animate(_request("direction", args), need_image=False)
    motion = request_motions(req)[0]
    models = _load(args)
    precision = models.plan.resolve(req.dtype)
    print(f"note: {precision.note}", file=sys.stderr)
    with shown() as progress:
        d, images = motion.make(models, Run(progress=progress, precision=precision))
    _save_direction(d, images, args.out)
    return 0


def _save_direction(d, images, path) -> None:
    """The direction file, and beside it a strip of the anchor images (``<name>.anchors.png``)."""
    from ..latents.direction import save_direction
    save_direction(path, d.vector, d.meta)
    print(path)
    if images is not None:
        strip = Path(path).with_suffix(".anchors.png")
        Image.fromarray(np.concatenate(list(images), axis=1)).save(strip)
        print(strip)


def _sample(args) -> int:
    seeds = parse_seeds(args.seeds)
    FIELDS["truncation"].check(args.truncation)
    if args.synthetic or synthetic_requested():
        gen, label = stylegan2.synthetic_generator(size=256, style_dim=512, n_mlp=8), "synthetic"
    elif not (checkpoint := Path(args.checkpoint or weights.target("stylegan2-ffhq-config-f",
                                                                   args.weights))).is_file():
        raise OptionError(f"generator checkpoint {checkpoint} not found: put "
                          f"stylegan2-ffhq-config-f.pt there (size and sha256 in "
                          f"weights/manifest.json), pass --weights DIR or --checkpoint PATH, or "
                          f"try --synthetic")
    else:
        gen, label = stylegan2.load_generator(checkpoint), "seed"
    if args.size is not None and args.size not in [2 ** i for i in range(2, gen.size.bit_length())]:
        raise OptionError(f"--size must be a power of two from 4 to {gen.size}, got {args.size}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with shown("face") as progress:
        images = render_seeds(gen, seeds, args.truncation, args.size,
                              progress=lambda i, n: progress("render", i, n))
    for seed, img in zip(seeds, images):
        path = out / f"{label}{seed:04d}.png"
        Image.fromarray(img).save(path)
        print(path)
    return 0
