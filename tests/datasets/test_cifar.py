"""Tests for convlearn.datasets.cifar: reading CIFAR-10 batches (folder and .tar.gz),
refusing malicious pickles without running them, rejecting damaged batches with the
file named, and downloading from a local HTTP server (checksum, safe extraction, the
no-network error, no request when the data is already there) and the command line.

The fake batches are written in the genuine format: Python 2 pickles at protocol 2,
bytes keys, bytes stored as plain strings, numpy.core.multiarray._reconstruct."""

import hashlib
import http.server
import io
import os
import pickle
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from convlearn.datasets import (
    CIFAR10_MD5,
    NoNetworkError,
    download_cifar10,
    load_cifar10,
)
from convlearn.datasets.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
N = 20  # images per fake batch
NAMES = [f"class{k}" for k in range(10)]
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
FILES = TRAIN + ["test_batch", "batches.meta"]


# ---- writing fake batches in the genuine format -----------------------------


class _Py2Pickler(pickle._Pickler):
    """Pickles as Python 2's cPickle did: str and bytes both as plain 8-bit strings.

    Python 3 writes bytes at protocol 2 as _codecs.encode(text, 'latin1'); Python 2
    wrote SHORT_BINSTRING / BINSTRING, which encoding='bytes' reads back as bytes.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_str8(self, obj):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        n = len(raw)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + raw)
        else:
            self.write(pickle.BINSTRING + n.to_bytes(4, "little") + raw)
        self.memoize(obj)

    dispatch[bytes] = _save_str8
    dispatch[str] = _save_str8


def py2_pickle(obj):
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    # numpy 1.x (which wrote the genuine files) named the module numpy.core.multiarray;
    # a GLOBAL opcode is newline-terminated text, so renaming it keeps the stream valid
    return buf.getvalue().replace(
        b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"
    )


def pattern(n, first):
    """(n, 3072) uint8: R plane = image number, G plane = 8 * row, B plane = 8 * column."""
    img = np.empty((n, 3, 32, 32), np.uint8)
    img[:, 0] = ((first + np.arange(n)) % 256).astype(np.uint8)[:, None, None]
    img[:, 1] = (8 * np.arange(32)).astype(np.uint8)[:, None]
    img[:, 2] = (8 * np.arange(32)).astype(np.uint8)[None, :]
    return img.reshape(n, 3072)


def batch(i, n=N):
    """The dict of fake batch i (0-4 train, 5 test), as the genuine files hold it."""
    return {
        b"batch_label": f"batch {i + 1} of 6".encode(),
        b"labels": [(i + 3 * k) % 10 for k in range(n)],
        b"data": pattern(n, 100 * i),
        b"filenames": [f"img_{i}_{k}.png".encode() for k in range(n)],
    }


def meta():
    return {
        b"num_cases_per_batch": N,
        b"label_names": [s.encode() for s in NAMES],
        b"num_vis": 3072,
    }


def write_folder(folder, dump=py2_pickle, overrides=None):
    """A fake cifar-10-batches-py folder; overrides maps a file name to its bytes (None: left out)."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {name: dump(batch(i)) for i, name in enumerate(FILES[:6])}
    contents["batches.meta"] = dump(meta())
    contents.update(overrides or {})
    for name, raw in contents.items():
        if raw is not None:
            (folder / name).write_bytes(raw)
    (folder / "readme.html").write_bytes(b"<html>fake</html>")
    return folder


def write_tar(folder, archive, extra=()):
    """archive (.tar.gz) of folder as cifar-10-batches-py/..., then the TarInfo/bytes pairs in extra."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
        for info, raw in extra:
            tar.addfile(info, io.BytesIO(raw) if raw is not None else None)
    return archive


def md5_of(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "cifar-10-batches-py")


@pytest.fixture
def archive(folder, tmp_path):
    return write_tar(folder, tmp_path / "cifar-10-python.tar.gz")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(var, raising=False)


# ---- loading ------------------------------------------------------------------


def test_fixture_is_in_the_genuine_python2_format(folder):
    raw = (folder / "data_batch_1").read_bytes()
    assert raw[:2] == b"\x80\x02"
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw
    assert b"_codecs" not in raw and b"U\x04data" in raw  # bytes as SHORT_BINSTRING


def test_folder_and_archive_load_the_same(folder, archive):
    a, b = load_cifar10(folder), load_cifar10(archive)
    for ds in (a, b):
        assert ds.x_train.shape == (5 * N, 3, 32, 32) and ds.x_train.dtype == np.uint8
        assert ds.x_test.shape == (N, 3, 32, 32) and ds.y_test.dtype == np.int64
        assert ds.classes == NAMES
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_pixels_survive_the_reshape(folder):
    ds = load_cifar10(folder)
    k = 7
    # train image 2 * N + k comes from data_batch_3 (i = 2): R plane = 200 + k
    img = ds.x_train[2 * N + k]
    assert np.all(img[0] == 200 + k)
    np.testing.assert_array_equal(
        img[1], np.repeat(8 * np.arange(32)[:, None], 32, axis=1)
    )
    np.testing.assert_array_equal(
        img[2], np.repeat(8 * np.arange(32)[None, :], 32, axis=0)
    )
    assert np.all(ds.x_test[k, 0] == (500 + k) % 256)
    raw = batch(2)[b"data"]
    np.testing.assert_array_equal(ds.x_train[2 * N : 3 * N].reshape(N, -1), raw)


def test_labels_and_order(folder):
    ds = load_cifar10(folder)
    expected = np.concatenate([batch(i)[b"labels"] for i in range(5)])
    np.testing.assert_array_equal(ds.y_train, expected)
    np.testing.assert_array_equal(ds.y_test, batch(5)[b"labels"])
    assert ds.x_train.flags.writeable and ds.x_test.flags.owndata


def test_parent_folder_is_accepted(folder, tmp_path):
    np.testing.assert_array_equal(
        load_cifar10(tmp_path).x_test, load_cifar10(folder).x_test
    )


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_python3_pickles_load_too(tmp_path, folder, protocol):
    other = write_folder(
        tmp_path / "py3", dump=lambda obj: pickle.dumps(obj, protocol=protocol)
    )
    a, b = load_cifar10(other), load_cifar10(folder)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.classes == NAMES


def test_missing_path():
    with pytest.raises(FileNotFoundError, match="no-such-place"):
        load_cifar10("/no-such-place/cifar")


def test_missing_batch_is_named(tmp_path):
    f = write_folder(tmp_path / "c", overrides={"data_batch_3": None})
    with pytest.raises(ValueError, match="data_batch_3"):
        load_cifar10(f)
    shutil.rmtree(tmp_path / "c" / "readme.html", ignore_errors=True)
    arch = write_tar(f, tmp_path / "c.tar.gz")
    with pytest.raises(ValueError, match=r"c\.tar\.gz.*missing.*data_batch_3"):
        load_cifar10(arch)


def test_truncated_batch_is_named(tmp_path):
    raw = py2_pickle(batch(1))
    f = write_folder(tmp_path / "c", overrides={"data_batch_2": raw[: len(raw) // 2]})
    with pytest.raises(ValueError, match="data_batch_2.*truncated"):
        load_cifar10(f)
    with pytest.raises(
        ValueError, match="member cifar-10-batches-py/data_batch_2.*truncated"
    ):
        load_cifar10(write_tar(f, tmp_path / "c.tar.gz"))


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_archive_is_named(archive, tmp_path, keep):
    raw = archive.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(raw[: int(keep * len(raw))])
    with pytest.raises(ValueError, match=r"cut\.tar\.gz"):
        load_cifar10(cut)


def test_not_a_tar(tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"this is not an archive")
    with pytest.raises(ValueError, match=r"x\.tar\.gz.*not a tar"):
        load_cifar10(bogus)


def _with(i, **changes):
    d = batch(i)
    d.update({k.encode(): v for k, v in changes.items()})
    return py2_pickle(d)


@pytest.mark.parametrize(
    "name, raw, message",
    [
        (
            "data_batch_4",
            _with(3, data=np.zeros((N, 3000), np.uint8)),
            r"shape \(N, 3072\).*\(20, 3000\)",
        ),
        (
            "data_batch_1",
            _with(0, data=np.zeros((N, 3072), np.float32)),
            "uint8.*float32",
        ),
        (
            "test_batch",
            _with(5, data=np.zeros(3072 * N, np.uint8)),
            r"shape \(N, 3072\)",
        ),
        (
            "data_batch_2",
            _with(1, labels=[0] * (N - 1) + [10]),
            r"in \[0, 10\), got 10 at index 19",
        ),
        ("data_batch_2", _with(1, labels=[-1] + [0] * (N - 1)), r"got -1 at index 0"),
        ("data_batch_5", _with(4, labels=[0] * (N - 1)), "19 labels for 20 images"),
        ("data_batch_5", _with(4, labels=[0.0] * N), "list of ints"),
        ("data_batch_5", _with(4, labels=None), "list of ints"),
        ("test_batch", py2_pickle([1, 2, 3]), "expected a dict"),
        (
            "batches.meta",
            py2_pickle({b"label_names": [b"a"] * 10}),
            "10 distinct label_names",
        ),
        (
            "batches.meta",
            py2_pickle({b"label_names": [b"a", b"b"]}),
            "10 distinct label_names",
        ),
    ],
)
def test_malformed_batches_are_named(tmp_path, name, raw, message):
    f = write_folder(tmp_path / "c", overrides={name: raw})
    with pytest.raises(ValueError, match=message) as err:
        load_cifar10(f)
    assert str(f / name) in str(err.value)


# ---- malicious pickles: refused, and never run ---------------------------------


class _Payload:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _crafted(module, name, arg):
    """A protocol-0 pickle of {'data': module.name(arg)}, as an attacker writes it by hand."""
    return f"(dp0\nS'data'\np1\nc{module}\n{name}\n(S{arg!r}\ntRp2\ns.".encode()


def _payloads(marker):
    quoted = shlex.quote(str(marker))
    npy = str(marker) + ".npy"
    return {
        "os.system": (
            _crafted("os", "system", f"touch {quoted}"),
            "os.system",
            [marker],
        ),
        "builtins.eval": (
            _crafted("builtins", "eval", f"open({str(marker)!r}, 'w').close()"),
            "builtins.eval",
            [marker],
        ),
        "subprocess": (
            # fix_imports=False, or protocol 2 would write Python 2's name, commands
            pickle.dumps(
                {b"data": _Payload(subprocess.check_call, ["touch", str(marker)])},
                protocol=2,
                fix_imports=False,
            ),
            "subprocess.check_call",
            [marker],
        ),
        "posix.system, protocol 4": (
            pickle.dumps({b"data": _Payload(os.system, f"touch {quoted}")}, protocol=4),
            f"{os.system.__module__}.system",
            [marker],
        ),
        "numpy.save": (
            py2_pickle({b"data": _Payload(np.save, npy, np.zeros(3))}),
            "numpy.save",
            [marker, Path(npy)],
        ),
    }


KINDS = [
    "os.system",
    "builtins.eval",
    "subprocess",
    "posix.system, protocol 4",
    "numpy.save",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("container", ["folder", "archive"])
def test_malicious_pickle_is_refused_and_not_run(tmp_path, kind, container):
    marker = tmp_path / "pwned"
    raw, forbidden, traces = _payloads(marker)[kind]
    assert forbidden.split(".")[-1].encode() in raw
    f = write_folder(tmp_path / "c", overrides={"data_batch_1": raw})
    path = f if container == "folder" else write_tar(f, tmp_path / "c.tar.gz")
    with pytest.raises(
        ValueError, match=f"data_batch_1: .*refusing to unpickle the global {forbidden}"
    ):
        load_cifar10(path)
    assert not any(t.exists() for t in traces)


def test_payload_would_have_run_with_plain_pickle(tmp_path):
    # guards the test above: the same bytes do create the marker under pickle.loads
    marker = tmp_path / "pwned"
    raw, _, _ = _payloads(marker)["builtins.eval"]
    pickle.loads(raw)
    assert marker.exists()


@pytest.mark.parametrize(
    "module, name",
    [
        ("numpy", "load"),
        ("numpy", "frombuffer"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("copyreg", "_reconstructor"),
        ("builtins", "getattr"),
        ("_codecs", "decode"),
    ],
)
def test_other_globals_are_refused(tmp_path, module, name):
    f = write_folder(
        tmp_path / "c", overrides={"test_batch": _crafted(module, name, "x")}
    )
    with pytest.raises(
        ValueError, match=f"refusing to unpickle the global {module}.{name}"
    ):
        load_cifar10(f)


def test_codecs_encode_stand_in_does_only_latin1(tmp_path):
    raw = b"(dp0\nS'data'\np1\nc_codecs\nencode\n(Vabc\nS'rot13'\ntRp2\ns."
    f = write_folder(tmp_path / "c", overrides={"data_batch_1": raw})
    with pytest.raises(ValueError, match="data_batch_1.*rot13"):
        load_cifar10(f)


# ---- downloading from a local server -------------------------------------------


@pytest.fixture
def server():
    files, hits = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield SimpleNamespace(
        base=f"http://127.0.0.1:{httpd.server_address[1]}", files=files, hits=hits
    )
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def closed_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"


class ListReporter:
    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(message)


def serve(server, archive, name="/cifar-10-python.tar.gz"):
    server.files[name] = Path(archive).read_bytes()
    return server.base + name


def test_download_verifies_extracts_and_loads(server, archive, folder, tmp_path):
    url = serve(server, archive)
    dest = tmp_path / "data"
    rep = ListReporter()
    out = download_cifar10(dest, url=url, md5=md5_of(archive), reporter=rep)
    assert out == dest / "cifar-10-batches-py"
    assert sorted(p.name for p in dest.iterdir()) == [
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ]
    np.testing.assert_array_equal(
        load_cifar10(out).x_train, load_cifar10(folder).x_train
    )
    assert server.hits == ["/cifar-10-python.tar.gz"]
    assert any("downloading" in line for line in rep.lines)
    # a second call finds it and makes no request
    assert download_cifar10(dest, url=url, md5=md5_of(archive)) == out
    assert len(server.hits) == 1


def test_default_folder_is_under_data_home(server, archive, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLEARN_DATA", str(tmp_path / "home"))
    out = download_cifar10(url=serve(server, archive), md5=md5_of(archive))
    assert out == tmp_path / "home" / "cifar10" / "cifar-10-batches-py" and out.is_dir()


def test_present_folder_means_no_request(server, archive, tmp_path):
    dest = tmp_path / "data"
    write_folder(dest / "cifar-10-batches-py")
    out = download_cifar10(dest, url=serve(server, archive), md5=md5_of(archive))
    assert out == dest / "cifar-10-batches-py" and server.hits == []


def test_incomplete_folder_is_reported_before_downloading(server, archive, tmp_path):
    dest = tmp_path / "data"
    write_folder(dest / "cifar-10-batches-py", overrides={"test_batch": None})
    with pytest.raises(ValueError, match="lacks test_batch"):
        download_cifar10(dest, url=serve(server, archive), md5=md5_of(archive))
    assert server.hits == []


def test_archive_placed_by_hand_is_used_offline(archive, tmp_path, closed_url):
    dest = tmp_path / "data"
    dest.mkdir()
    shutil.copy(archive, dest / "cifar-10-python.tar.gz")
    out = download_cifar10(dest, url=closed_url, md5=md5_of(archive))
    assert load_cifar10(out).classes == NAMES
    # the official checksum is the default, so the fake archive is refused and kept
    shutil.rmtree(out)
    with pytest.raises(ValueError, match=f"does not match the expected {CIFAR10_MD5}"):
        download_cifar10(dest, url=closed_url)
    assert (dest / "cifar-10-python.tar.gz").exists()


def test_wrong_md5_deletes_the_download(server, archive, tmp_path):
    dest = tmp_path / "data"
    with pytest.raises(
        ValueError, match=f"md5 {md5_of(archive)}, not the expected 0+; it was deleted"
    ):
        download_cifar10(dest, url=serve(server, archive), md5="0" * 32)
    assert list(dest.iterdir()) == []
    assert server.hits == ["/cifar-10-python.tar.gz"]


def test_closed_port_says_no_network(tmp_path, closed_url):
    dest = tmp_path / "data"
    with pytest.raises(NoNetworkError, match="no network access") as err:
        download_cifar10(dest, url=closed_url, timeout=5)
    assert isinstance(err.value, ConnectionError)
    assert str(dest / "cifar-10-python.tar.gz") in str(err.value)
    assert list(dest.iterdir()) == []


def test_http_error_is_reported(server, tmp_path):
    with pytest.raises(NoNetworkError, match="HTTP 404") as err:
        download_cifar10(tmp_path / "data", url=server.base + "/nothing-here.tar.gz")
    assert "cifar-10-python.tar.gz" in str(err.value)


def _info(name, kind=tarfile.REGTYPE, size=0, link=""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, link
    return info


def _evil_members(tmp_path):
    """name -> (extra tar members, paths that must not exist afterwards)."""
    outside = tmp_path / "outside"
    return {
        "dotdot": (
            [(_info("../evil.txt", size=4), b"evil")],
            [tmp_path / "data" / "evil.txt", tmp_path / "evil.txt"],
        ),
        "deep dotdot": (
            [(_info("cifar-10-batches-py/../../evil.txt", size=4), b"evil")],
            [tmp_path / "evil.txt", tmp_path / "data" / "evil.txt"],
        ),
        "absolute": (
            [(_info(str(tmp_path / "abs_evil.txt"), size=4), b"evil")],
            [tmp_path / "abs_evil.txt"],
        ),
        "symlink out": (
            [
                (
                    _info(
                        "cifar-10-batches-py/link", tarfile.SYMTYPE, link=str(outside)
                    ),
                    None,
                ),
                (_info("cifar-10-batches-py/link/evil.txt", size=4), b"evil"),
            ],
            [outside / "evil.txt"],
        ),
        "hardlink out": (
            [
                (
                    _info(
                        "cifar-10-batches-py/hard",
                        tarfile.LNKTYPE,
                        link=str(outside / "target"),
                    ),
                    None,
                )
            ],
            [tmp_path / "data" / "cifar-10-batches-py"],
        ),
        "device": (
            [(_info("cifar-10-batches-py/dev", tarfile.CHRTYPE), None)],
            [tmp_path / "data" / "cifar-10-batches-py"],
        ),
    }


EVIL = ["dotdot", "deep dotdot", "absolute", "symlink out", "hardlink out", "device"]


@pytest.mark.parametrize("kind", EVIL)
def test_unsafe_archive_is_refused(server, folder, tmp_path, kind):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target").write_bytes(b"secret")
    extra, must_not_exist = _evil_members(tmp_path)[kind]
    evil = write_tar(
        folder, tmp_path / "evil.tar.gz", extra=extra
    )  # genuine files first
    dest = tmp_path / "data"
    with pytest.raises(ValueError, match="refusing to extract"):
        download_cifar10(dest, url=serve(server, evil), md5=md5_of(evil))
    assert not any(p.exists() for p in must_not_exist)
    assert list(dest.iterdir()) == []  # no archive, no half-extracted folder
    assert sorted(p.name for p in outside.iterdir()) == ["target"]


# ---- the command line ------------------------------------------------------------


def test_cli_downloads_and_prints_the_folder(server, archive, tmp_path):
    url = serve(server, archive)
    dest = tmp_path / "cli"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "convlearn.datasets", "download", "cifar10", str(dest)]
    run = subprocess.run(
        cmd + ["--url", url, "--md5", md5_of(archive)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(dest / "cifar-10-batches-py")
    assert load_cifar10(dest).classes == NAMES


def test_cli_offline_exits_1_with_a_message(tmp_path, closed_url, capsys):
    code = main(
        [
            "download",
            "cifar10",
            str(tmp_path / "cli"),
            "--url",
            closed_url,
            "--timeout",
            "5",
            "-q",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("error: cannot download") and "no network access" in err
    assert (
        "Traceback" not in err
        and str(tmp_path / "cli" / "cifar-10-python.tar.gz") in err
    )


def test_cli_refuses_unknown_dataset(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["download", "imagenet"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err
