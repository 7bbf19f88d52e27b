"""Fetching weights from a real HTTP server on 127.0.0.1: resume, sha256, atomic rename, the
user's own copies, and clear errors offline."""
import hashlib
import http.server
import subprocess
import sys
import threading

import pytest

from conftest import ROOT
from micromotion import verify, weights
from micromotion.errors import WeightsMissingError

BLOB = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves BLOB at /blob with HTTP Range support (``bytes=A-`` and ``bytes=A-B``); 404
    elsewhere; records each request; ``cut`` ranges are cut short once (a broken connection)."""
    log: list = []
    cut: set = set()

    def do_GET(self):
        self.log.append((self.path, self.headers.get("Range")))
        if self.path != "/blob":
            self.send_error(404)
            return
        start, end = 0, len(BLOB) - 1
        if self.headers.get("Range"):
            first, _, last = self.headers["Range"].split("=")[1].partition("-")
            start, end = int(first), int(last) if last else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(BLOB)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end + 1 - start))
        self.end_headers()
        if self.headers.get("Range") in self.cut:
            self.cut.discard(self.headers.get("Range"))
            self.wfile.write(BLOB[start:start + 10])
            return
        self.wfile.write(BLOB[start:end + 1])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def entries(server):
    _Handler.log.clear()
    good = {"file": "sub/blob.bin", "size": len(BLOB),
            "sha256": hashlib.sha256(BLOB).hexdigest(), "sources": [f"{server}/blob"]}
    return {"blob": good,
            "two-sources": dict(good, sources=[f"{server}/missing", f"{server}/blob"]),
            "wrong-sha": dict(good, sha256="0" * 64),
            "prefix": dict(good, sha256=None, sha256_prefix=hashlib.sha256(BLOB).hexdigest()[:8]),
            "wrong-prefix": dict(good, sha256=None, sha256_prefix="00000000"),
            "offline": dict(good, sources=["http://127.0.0.1:9/blob"]),
            "no-source": dict(good, sources=[])}


def test_fetch_downloads_verifies_and_renames(tmp_path, entries):
    seen = []
    path = weights.fetch("blob", tmp_path, entries, progress=lambda n, d, t: seen.append((d, t)))
    assert path == tmp_path / "sub" / "blob.bin" and path.read_bytes() == BLOB
    assert not (tmp_path / "sub" / "blob.bin.part").exists()
    assert seen[-1] == (len(BLOB), len(BLOB))
    weights.fetch("blob", tmp_path, entries)  # present and verified: no second download
    assert len(_Handler.log) == 1


def test_fetch_resumes_a_partial_file(tmp_path, entries):
    part = tmp_path / "sub" / "blob.bin.part"
    part.parent.mkdir()
    part.write_bytes(BLOB[:300_000])
    assert weights.fetch("blob", tmp_path, entries).read_bytes() == BLOB
    assert _Handler.log == [("/blob", "bytes=300000-")]


def test_next_source_when_one_fails(tmp_path, entries):
    assert weights.fetch("two-sources", tmp_path, entries).read_bytes() == BLOB
    assert [p for p, _ in _Handler.log] == ["/missing", "/blob"]


def test_wrong_sha256_keeps_nothing(tmp_path, entries):
    with pytest.raises(WeightsMissingError, match="its sha256 is .* not 0000"):
        weights.fetch("wrong-sha", tmp_path, entries)
    assert list((tmp_path / "sub").iterdir()) == []


def test_a_sha256_prefix_is_checked_where_only_it_is_known(tmp_path, entries):
    """torchvision names its files by their sha256's first 8 digits (alexnet-owt-7be5be79)."""
    assert weights.fetch("prefix", tmp_path, entries).read_bytes() == BLOB
    with pytest.raises(WeightsMissingError, match="its sha256 is .* not 00000000…"):
        weights.fetch("wrong-prefix", tmp_path / "other", entries)


def test_a_corrupt_file_is_fetched_again(tmp_path, entries):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "blob.bin").write_bytes(b"truncated")
    assert weights.fetch("blob", tmp_path, entries).read_bytes() == BLOB


def test_offline_error_names_file_size_sha_and_place(tmp_path, entries):
    with pytest.raises(WeightsMissingError) as exc:
        weights.ensure(["offline", "no-source"], tmp_path, entries)
    msg = str(exc.value)
    assert msg.startswith("2 weights file(s) missing")
    assert "1,048,576 bytes" in msg and entries["blob"]["sha256"] in msg
    assert str(tmp_path / "sub" / "blob.bin") in msg and "MICROMOTION_SYNTHETIC=1" in msg
    assert "no known download source" in msg


def test_users_own_copy(tmp_path, entries, monkeypatch):
    own = tmp_path / "mine.bin"
    own.write_bytes(BLOB)
    monkeypatch.setenv("MICROMOTION_TWO_SOURCES", str(own))
    assert weights.fetch("two-sources", tmp_path / "w", entries) == own and _Handler.log == []
    own.write_bytes(b"not it")
    with pytest.raises(WeightsMissingError, match="from MICROMOTION_TWO_SOURCES.*6 bytes"):
        weights.fetch("two-sources", tmp_path / "w", entries)
    assert own.read_bytes() == b"not it"  # never overwritten


def test_google_drive_goes_through_gdown(tmp_path, entries, monkeypatch):
    import gdown
    calls = []

    def fake_download(id, output, quiet, resume):  # noqa: A002 - gdown's own keyword
        calls.append((id, resume))
        open(output, "wb").write(BLOB)
        return output

    monkeypatch.setattr(gdown, "download", fake_download)
    entries["drive"] = dict(entries["blob"], sources=["gdrive:abc123"])
    assert weights.fetch("drive", tmp_path, entries).read_bytes() == BLOB
    assert calls == [("abc123", True)]


def test_manifest_facts():
    m = weights.manifest()
    assert m["stylegan2-ffhq-config-f"]["size"] == 381_462_551
    assert m["e4e_ffhq_encode"]["sha256"].startswith("2ace1d9a8c05")
    assert "gdrive:1sw6I2lRIB0MpuJkpc8F5BJiSZrc0hjfE" in m["restyle_psp_ffhq_encode"]["sources"]
    assert m["clip-vit-b-32"]["sha256"].startswith("40d365715913")
    assert m["alexnet"]["sha256_prefix"] == "7be5be79" and m["lpips-alex"]["size"] == 6009
    assert all(name in m for name in weights.SERVED_NAMES)
    # a clean image can fetch every file: each entry has somewhere to come from
    assert all(e["sources"] for k, e in m.items() if not k.startswith("_")), \
        [k for k, e in m.items() if not k.startswith("_") and not e["sources"]]
    assert m["e4e_ffhq_encode"]["sources"][0] == "gdrive:1cUv_reLE6k3604or78EranS7XzuVMWeO"
    # a second source only where the file's sha256 is known: a mirror's copy is checked by it
    assert all(e.get("sha256") for e in m.values() if len(e["sources"]) > 1)


def test_cli_list_and_offline_fetch(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "micromotion.weights", *a],  # noqa: E731
                                    cwd=ROOT, capture_output=True, text=True, timeout=120,
                                    env={"PATH": "", "MICROMOTION_OFFLINE": "1"})
    r = run("list", "--folder", str(tmp_path))
    assert r.returncode == 0 and "missing  stylegan2-ffhq-config-f" in r.stdout
    r = run("fetch", "stylegan2-ffhq-config-f", "--folder", str(tmp_path))
    assert r.returncode == 2 and "381,462,551 bytes" in r.stderr and "Traceback" not in r.stderr


def test_unreadable_weights_are_the_servers_problem_in_words(tmp_path, monkeypatch):
    """A weights folder the server's user may not read (root reads everything, so the refusal
    is played by the file system call): setup says what the operator can do, in one sentence,
    not ``PermissionError: [Errno 13]``."""
    from micromotion.doors import serving
    from micromotion.errors import ServerError
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("MICROMOTION_WEIGHTS", str(folder))
    monkeypatch.delenv("MICROMOTION_SYNTHETIC", raising=False)

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(folder / "stylegan2-ffhq-config-f.pt"))
    monkeypatch.setattr(serving.weights, "ensure", refused)
    with pytest.raises(ServerError) as err:
        serving.load_models(log=lambda line: None)
    assert str(err.value) == (
        f"this server may not read its weights (permission denied: "
        f"{folder}/stylegan2-ffhq-config-f.pt); give the user it runs as read access to "
        f"{folder} (and write access, to fetch missing files), or point MICROMOTION_WEIGHTS "
        f"at a readable copy")


def test_a_large_file_comes_in_parallel_pieces_and_resumes_the_missing_ones(
        tmp_path, entries, monkeypatch):
    """As Replicate's pget: ranged pieces at once, each at its offset; a piece cut short fails
    the download, and the next fetch asks only for the pieces it lacks."""
    from micromotion import download
    monkeypatch.setattr(download, "PIECE", 64 << 10)  # 16 pieces of the 1 MiB file
    _Handler.cut = {f"bytes={5 * 65536}-{6 * 65536 - 1}"}
    with pytest.raises(WeightsMissingError, match="connection closed at byte"):
        weights.fetch("blob", tmp_path, entries)
    part = tmp_path / "sub" / "blob.bin.part"
    assert part.exists() and (tmp_path / "sub" / "blob.bin.part.pieces").exists()
    asked = {r for _, r in _Handler.log} - {"bytes=0-0"}  # less the probe: are ranges served?
    assert len(asked) == 16 and all(r.startswith("bytes=") and not r.endswith("-") for r in asked)
    _Handler.log.clear()
    assert weights.fetch("blob", tmp_path, entries).read_bytes() == BLOB
    assert _Handler.log == [("/blob", "bytes=0-0"),
                            ("/blob", f"bytes={5 * 65536}-{6 * 65536 - 1}")]
    assert not part.exists() and not (tmp_path / "sub" / "blob.bin.part.pieces").exists()


def test_a_file_verified_once_is_not_hashed_again(tmp_path, entries, monkeypatch):
    """Fetching records the verified sha256 beside the file (what ``cog build`` copies into
    the image); a later check reads the record, and hashes again only when the file changed."""
    path = weights.fetch("blob", tmp_path, entries)
    assert verify.recorded(path) == entries["blob"]["sha256"]
    hashed = []
    real = verify.sha256_of
    monkeypatch.setattr(verify, "sha256_of", lambda p: hashed.append(p) or real(p))
    assert weights.fetch("blob", tmp_path, entries) == path and hashed == []
    path.write_bytes(BLOB[::-1])  # same size, another file: the record is stale
    assert verify.recorded(path) is None
    assert weights.fetch("blob", tmp_path, entries).read_bytes() == BLOB
    assert hashed  # hashed, found wrong, fetched again


def test_a_torchscript_archive_is_kept_as_plain_tensors_at_fetch(tmp_path, entries):
    """CLIP's archive takes seconds to load: fetching it (before ``cog build``) also writes its
    plain tensors beside it, which is all a cold boot reads."""
    from micromotion.nets.clip_guidance import load_clip
    from micromotion.nets.synthetic import write_synthetic_clip_archive
    archive = tmp_path / "w" / "ViT-B-32.pt"
    archive.parent.mkdir()
    write_synthetic_clip_archive(archive, seed=3)
    digest = verify.sha256_of(archive)
    entries["clip"] = {"file": "ViT-B-32.pt", "size": archive.stat().st_size, "sha256": digest,
                       "sources": [], "torchscript": True}
    assert weights.fetch("clip", tmp_path / "w", entries) == archive
    plain = tmp_path / "w" / f"ViT-B-32-{digest[:16]}.state_dict.pt"
    assert plain.is_file()
    archive.unlink()  # a boot reads the plain tensors, never the archive
    assert load_clip(archive, expected_sha256=digest).resolution == 224
