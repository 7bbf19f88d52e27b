"""The official weights: the manifest (``weights/manifest.json``), where each file is found, and
fetching it.

Where a file is looked for, first match wins:
1. ``MICROMOTION_<NAME>`` (the entry's name in capitals, ``-`` as ``_``; e.g.
   ``MICROMOTION_STYLEGAN2_FFHQ_CONFIG_F=/data/ffhq.pt``): the user's own copy of that file;
2. the weights folder: ``MICROMOTION_WEIGHTS``, or ``weights/`` beside the code.

``python -m micromotion.weights fetch [NAME ...]`` (and ``ensure`` in code: what the Cog
``setup()`` runs) downloads what is missing into the weights folder: with a progress bar,
resuming a partial ``<file>.part``, checking the size and sha256 where the manifest knows them,
then renaming into place, so a file under its final name is always whole. Google Drive sources
(``gdrive:<id>``) go through ``gdown``. ``MICROMOTION_OFFLINE=1`` never downloads.
``MICROMOTION_SYNTHETIC=1`` asks the doors for seeded
synthetic weights instead (abstract patterns, not faces).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
from pathlib import Path
from typing import Callable, Iterable

from . import download
from .errors import WeightsMissingError
from .verify import move_record, record, verify

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "weights" / "manifest.json"  # MICROMOTION_MANIFEST names another (a mirror's)
PRESET_NAMES = ("direction-smile", "direction-angry", "direction-aging", "direction-eyesClose",
                "direction-headsTurn")
# What the default pipeline (ReStyle-pSp, presets, text anchors) needs: what setup() fetches.
DEFAULT_NAMES = ("stylegan2-ffhq-config-f", "restyle_psp_ffhq_encode", "model_ir_se50",
                 "clip-vit-b-32") + PRESET_NAMES
# fidelity faithful's LPIPS (AlexNet): loaded on its first use (fetched then if missing),
# unless the operator asks for it at setup (MICROMOTION_PRELOAD=faithful)
FAITHFUL_NAMES = ("alexnet", "lpips-alex")
SERVED_NAMES = DEFAULT_NAMES + FAITHFUL_NAMES  # what `fetch` puts in weights/ for an image


def weights_dir() -> Path:
    return Path(os.environ.get("MICROMOTION_WEIGHTS", ROOT / "weights"))


def synthetic_requested() -> bool:
    return os.environ.get("MICROMOTION_SYNTHETIC", "") not in ("", "0", "false", "no")


def offline() -> bool:
    """``MICROMOTION_OFFLINE=1``: never try to download."""
    return os.environ.get("MICROMOTION_OFFLINE", "") not in ("", "0", "false", "no")


def manifest() -> dict:
    path = Path(os.environ.get("MICROMOTION_MANIFEST") or MANIFEST)
    return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}


def encoders() -> dict[str, str]:
    """The encoders the manifest lists (an entry's ``"encoder"``: the name ``--encoder`` and
    ``Models.load`` take) → their entries, the default (``DEFAULT_NAMES``') first."""
    entries = {e["encoder"]: name for name, e in manifest().items()
               if isinstance(e, dict) and "encoder" in e}
    return dict(sorted(entries.items(), key=lambda kv: kv[1] not in DEFAULT_NAMES))


def env_var(name: str) -> str:
    """The environment variable that points at the user's own copy of entry ``name``."""
    return "MICROMOTION_" + name.upper().replace("-", "_")


def _entry(name: str, entries: dict | None) -> dict:
    entries = manifest() if entries is None else entries
    if name not in entries:
        raise WeightsMissingError(f"unknown weights name {name!r}; the manifest lists "
                                  f"{', '.join(entries)}")
    return entries[name]


def target(name: str, folder: str | os.PathLike | None = None,
           entries: dict | None = None) -> Path:
    """Where entry ``name`` is (or would be) found: its environment variable, or the folder."""
    own = os.environ.get(env_var(name))
    if own:
        return Path(own)
    folder = Path(folder) if folder is not None else weights_dir()
    return folder / _entry(name, entries)["file"]


def entry_name(name: str, entries: dict | None = None) -> str:
    """"file (size, sha256, from sources)" for messages."""
    entry = _entry(name, entries)
    facts = ", ".join(f for f in (
        f"{entry['size']:,} bytes" if entry.get("size") else "",
        f"sha256 {entry['sha256']}" if entry.get("sha256") else "",
        f"from {' or '.join(entry['sources'])}" if entry.get("sources") else "") if f)
    return entry["file"] + (f" ({facts})" if facts else "")


def path_of(name: str, folder: str | os.PathLike | None = None,
            entries: dict | None = None) -> Path:
    """The file of manifest entry ``name``; a clear ``WeightsMissingError`` (what, how big, its
    sha256, where to put it) when it is absent."""
    path = target(name, folder, entries)
    if not path.is_file():
        raise WeightsMissingError(
            f"{entry_name(name, entries)} not found at {path}: run `python -m micromotion.weights "
            f"fetch {name}`, put it there, point {env_var(name)} or MICROMOTION_WEIGHTS at your "
            f"copy, or run on synthetic weights (MICROMOTION_SYNTHETIC=1 or --synthetic)")
    return path


# -- fetching ------------------------------------------------------------------------------------
Progress = Callable[[str, int, int | None], None]  # (name, bytes so far, total or None)


def ensure(names: Iterable[str] = DEFAULT_NAMES, folder: str | os.PathLike | None = None,
           entries: dict | None = None, progress: Progress | None = None) -> dict[str, Path]:
    """Every named file present and verified, fetching what is missing. Raises one
    ``WeightsMissingError`` naming every file that could not be had, and why."""
    found, failures = {}, []
    for name in names:
        try:
            found[name] = fetch(name, folder, entries, progress)
        except WeightsMissingError as exc:
            failures.append(str(exc))
    if failures:
        raise WeightsMissingError(
            f"{len(failures)} weights file(s) missing: " + " | ".join(failures) +
            " | To try everything without them, run on synthetic weights "
            "(MICROMOTION_SYNTHETIC=1, or --synthetic on the command line).")
    return found


def fetch(name: str, folder: str | os.PathLike | None = None, entries: dict | None = None,
          progress: Progress | None = None) -> Path:
    """Entry ``name`` present at ``target()``: checked if there, else downloaded from its
    sources in turn (resuming ``<file>.part``), verified, renamed into place."""
    entry = _entry(name, entries)
    dest = target(name, folder, entries)
    if dest.is_file():
        problem = verify(dest, entry)
        if problem is None:
            return _derived(dest, entry)
        if os.environ.get(env_var(name)):  # never overwrite the user's own copy
            raise WeightsMissingError(f"{dest} (from {env_var(name)}) is not {entry['file']}: "
                                      f"{problem}")
        dest.unlink()
        record(dest).unlink(missing_ok=True)
    if not entry.get("sources"):
        raise WeightsMissingError(f"{entry_name(name, entries)} is not at {dest} and has no "
                                  f"known download source: put your copy there or point "
                                  f"{env_var(name)} at it")
    if offline():
        raise WeightsMissingError(f"{entry_name(name, entries)} is not at {dest} and downloads "
                                  f"are off (MICROMOTION_OFFLINE): put the file there or point "
                                  f"{env_var(name)} at your copy")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    reasons = []
    for source in entry["sources"]:
        try:
            _download(source, part, entry.get("size"),
                      (lambda done, total: progress(name, done, total)) if progress else None)
        except (OSError, urllib.error.URLError, RuntimeError, ValueError) as exc:
            reasons.append(f"{source}: {_short(exc)}")
            continue
        problem = verify(part, entry)
        if problem is None:
            os.replace(part, dest)  # atomic: the final name only ever holds a whole file
            move_record(part, dest)
            return _derived(dest, entry)
        part.unlink()
        record(part).unlink(missing_ok=True)
        reasons.append(f"{source}: {problem}")
    raise WeightsMissingError(f"could not download {entry_name(name, entries)}: "
                              f"{'; '.join(reasons)}. Put the file at {dest} or point "
                              f"{env_var(name)} at your copy")


def _short(exc: BaseException) -> str:
    """A download error in a few words (network libraries nest whole causes in the text)."""
    text = str(exc)
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "no network (the host name does not resolve)"
    return (text[:160] + "…") if len(text) > 160 else text


def _derived(path: Path, entry: dict) -> Path:
    """``path``, with what is derived from it written beside it where the folder allows."""
    if entry.get("torchscript") and entry.get("sha256"):
        try:
            plain_state(path, entry["sha256"])
        except OSError:
            pass  # a read-only copy: the archive is loaded instead
    return path


def plain_path(archive: Path, digest: str, folder: Path | None = None) -> Path:
    """Where ``plain_state`` keeps the archive's plain tensors: named by its digest."""
    return (folder or archive.parent) / f"{archive.stem}-{digest[:16]}.state_dict.pt"


def plain_state(archive: Path, digest: str, folder: Path | None = None) -> Path:
    """The plain state dict (a ``torch.save`` file of tensors) of the TorchScript weights
    archive at ``archive`` — named by its ``digest``, in ``folder`` (default: beside it) —
    written once: a TorchScript archive takes seconds to load (CLIP's about 7 s on a 2-core
    CPU), its plain tensors about one. ``fetch`` writes it for entries marked ``torchscript``,
    so an image built after ``fetch`` boots without loading the archive."""
    import warnings

    import torch
    out = plain_path(archive, digest, folder)
    if out.is_file():
        return out
    with warnings.catch_warnings():  # torch.jit.load is deprecated; this is its one use
        warnings.simplefilter("ignore")
        state = torch.jit.load(str(archive), map_location="cpu").state_dict()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save({k: v.detach().clone() for k, v in state.items()}, tmp)
    os.replace(tmp, out)  # atomic: a half-written file is never read
    return out


def _download(source: str, part: Path, size: int | None,
              progress: Callable[[int, int | None], None] | None) -> None:
    if source.startswith("gdrive:"):
        _download_gdrive(source.removeprefix("gdrive:"), part)
    elif source.startswith(("http://", "https://")):
        download.fetch(source, part, size, progress)
    else:
        raise ValueError(f"unknown kind of source {source!r}")


def _download_gdrive(file_id: str, part: Path) -> None:
    """A Google Drive file through ``gdown`` (which handles Drive's confirmation pages and
    resumes ``part``)."""
    import gdown
    out = gdown.download(id=file_id, output=str(part), quiet=False, resume=True)
    if out is None or not part.is_file():
        raise RuntimeError("Google Drive refused the download (quota or permissions)")


# -- command line ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m micromotion.weights",
                                     description="List and fetch the official weights.")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download what is missing (default: what the pipeline uses)")
    f.add_argument("names", nargs="*", help=f"manifest names (default: {' '.join(SERVED_NAMES)})")
    f.add_argument("--folder", default=None, help="weights folder (default $MICROMOTION_WEIGHTS or weights/)")
    ls = sub.add_parser("list", help="every manifest entry, where it is looked for, and if present")
    ls.add_argument("--folder", default=None)
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in manifest():
            path = target(name, args.folder)
            print(f"{'present' if path.is_file() else 'missing':8} {name:26} {path}")
        return 0
    from .progress import shown
    try:
        with shown("B") as progress:
            paths = ensure(args.names or SERVED_NAMES, args.folder, progress=progress)
    except WeightsMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
