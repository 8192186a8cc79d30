"""Fetching CIFAR-10 on request: download, MD5 check, safe extraction.

`download_cifar10` is the only code in convlearn that touches the network,
and only when it is called (``python -m convlearn.datasets download
cifar10``). The archive goes to a temporary file, is checked against the
published MD5, and is extracted member by member into a temporary folder
that is renamed into place, refusing any member that could land outside it.
"""

import hashlib
import http.client
import os
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..progress import silent
from .cifar import _FILES, CIFAR10_ARCHIVE, CIFAR10_FOLDER, CIFAR10_MD5, CIFAR10_URL
from .core import data_home

__all__ = ["download_cifar10", "NoNetworkError"]


class NoNetworkError(ConnectionError):
    """The archive could not be fetched; the message says how to place it by hand."""


def _md5(file, chunk=1 << 20):
    """Hex MD5 of a file, read in 1 MiB chunks."""
    h = hashlib.md5()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _complete(folder):
    """Whether folder holds all seven CIFAR-10 files as non-empty regular files."""
    return all(
        (folder / n).is_file() and (folder / n).stat().st_size > 0 for n in _FILES
    )


def _by_hand(folder):
    """The advice for placing CIFAR-10 without this function's download."""
    return (
        f"To install it by hand, copy {CIFAR10_ARCHIVE} (md5 {CIFAR10_MD5}, from "
        f"{CIFAR10_URL}) to {folder / CIFAR10_ARCHIVE} and run this again, or extract it "
        f"so that {folder / CIFAR10_FOLDER} holds {', '.join(_FILES)}."
    )


def _fetch(url, dest, timeout, reporter, folder):
    """Stream url into the open binary file dest; returns its MD5 (hex)."""
    h = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done, shown = 0, 0
            for block in iter(lambda: response.read(1 << 20), b""):
                dest.write(block)
                h.update(block)
                done += len(block)
                if total and 10 * done // total > shown:
                    shown = 10 * done // total
                    reporter.info(f"  {done / 1e6:.1f} of {total / 1e6:.1f} MB")
    except urllib.error.HTTPError as exc:
        raise NoNetworkError(
            f"cannot download {url}: the server answered HTTP {exc.code} {exc.reason}. {_by_hand(folder)}"
        ) from None
    except (
        urllib.error.URLError,
        socket.timeout,
        ConnectionError,
        http.client.HTTPException,
    ) as exc:
        reason = getattr(exc, "reason", exc)
        raise NoNetworkError(
            f"cannot download {url}: no network access, or the server cannot be reached "
            f"({reason}). {_by_hand(folder)}"
        ) from None
    return h.hexdigest()


def _safe_member_path(dest, member, archive):
    """Where a tar member may be written inside dest, or a ValueError saying why not.

    Admits only regular files and folders whose name is relative, has no
    '..' component and resolves inside dest: links, devices and fifos are
    refused outright (a genuine CIFAR archive has none), whatever they point at.
    """
    name = member.name
    where = f"{archive}: member {name!r}"
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"{where}: refusing to extract a link, device or fifo")
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith(("/", "\\"))
        or PureWindowsPath(name).drive
        or PurePosixPath(name).is_absolute()
    ):
        raise ValueError(f"{where}: refusing to extract an absolute path")
    if ".." in parts:
        raise ValueError(f"{where}: refusing to extract a path with '..'")
    target = Path(os.path.realpath(dest / name))
    root = Path(os.path.realpath(dest))
    if target != root and root not in target.parents:
        raise ValueError(f"{where}: refusing to extract outside {dest}")
    return target


def _safe_extract(archive, dest):
    """Extract the tar archive into the existing empty folder dest, member by member.

    Every member is checked by `_safe_member_path` before anything of it is
    written, and files are written by us (new files only, default
    permissions), so this holds on every Python version, with or without
    tarfile's extraction filters.
    """
    try:
        with tarfile.open(archive, "r|*") as tar:
            for member in tar:
                target = _safe_member_path(dest, member, archive)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "xb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
    except FileExistsError as exc:
        raise ValueError(f"{archive}: the archive holds {exc.filename} twice") from None
    except OSError as exc:  # e.g. a member whose parent is a file
        raise ValueError(f"{archive}: cannot extract ({exc})") from exc
    except (tarfile.TarError, EOFError) as exc:
        raise ValueError(
            f"{archive}: cannot extract, truncated or not a tar.gz ({exc})"
        ) from exc


def _install(archive, folder, reporter):
    """Extract a checked archive into folder / CIFAR10_FOLDER via a temporary folder."""
    tmp_dir = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    try:
        reporter.info(f"extracting {archive.name} into {folder}")
        _safe_extract(archive, tmp_dir)
        extracted = tmp_dir / CIFAR10_FOLDER
        if not _complete(extracted):
            missing = [n for n in _FILES if not (extracted / n).is_file()]
            raise ValueError(
                f"{archive}: the archive lacks {CIFAR10_FOLDER}/{missing[0]}"
            )
        os.replace(extracted, folder / CIFAR10_FOLDER)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def download_cifar10(
    folder=None, url=CIFAR10_URL, timeout=60, reporter=None, md5=CIFAR10_MD5
) -> Path:
    """Download, check and extract CIFAR-10 (163 MB); returns the cifar-10-batches-py folder.

    Parameters
    ----------
    folder : str or Path, optional
        Where the data set goes; default ``data_home() / "cifar10"``. The
        result is ``folder / "cifar-10-batches-py"``, and the archive
        ``cifar-10-python.tar.gz`` stays beside it (delete it to save space;
        `load_cifar10` reads either).
    url : str
        Where to fetch the archive: the official address, or a mirror.
    timeout : float
        Seconds to wait for the server to answer or send more data.
    reporter : object with ``.info(str)``, optional
        Progress messages; None is silent.
    md5 : str
        The archive's expected MD5 (hex); the official archive's by default.

    Returns
    -------
    Path
        The extracted folder, ready for `load_cifar10`.

    Notes
    -----
    Nothing is fetched when the folder already holds the seven files, and
    an archive placed at ``folder / "cifar-10-python.tar.gz"`` by hand is
    checked and extracted instead of downloaded. A download goes to a
    temporary file in `folder`, is checked against `md5` (a mismatch deletes
    it) and extracted into a temporary folder; only then are both renamed
    into place, so an interrupted run leaves no half-written data set. Tar
    members that are links, devices, absolute paths, contain '..' or would
    land outside the folder are refused.

    Raises
    ------
    NoNetworkError (a ConnectionError)
        The server could not be reached; the message says where to put the
        archive by hand.
    ValueError
        The checksum does not match, the archive is unsafe or incomplete, or
        the folder holds an incomplete copy.
    """
    reporter = silent(reporter)
    folder = (data_home() / "cifar10") if folder is None else Path(folder).expanduser()
    target = folder / CIFAR10_FOLDER
    archive = folder / CIFAR10_ARCHIVE
    md5 = str(md5).lower()
    if target.exists():
        if _complete(target):
            reporter.info(f"CIFAR-10 is already in {target}")
            return target
        missing = next(n for n in _FILES if not (target / n).is_file())
        raise ValueError(
            f"{target} exists but lacks {missing}: remove the folder (or complete it) and run again"
        )
    folder.mkdir(parents=True, exist_ok=True)
    if archive.is_file():
        reporter.info(f"checking {archive}")
        found = _md5(archive)
        if found != md5:
            raise ValueError(
                f"{archive}: md5 {found} does not match the expected {md5}; the file is "
                "damaged or not the CIFAR-10 archive (it was left in place)"
            )
        _install(archive, folder, reporter)
        return target

    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{CIFAR10_ARCHIVE}.", suffix=".part", dir=folder
    )
    tmp = Path(tmp_name)
    try:
        reporter.info(f"downloading {url} to {folder}")
        with os.fdopen(fd, "wb") as f:
            found = _fetch(url, f, timeout, reporter, folder)
        if found != md5:
            raise ValueError(
                f"the file downloaded from {url} has md5 {found}, not the expected {md5}; "
                "it was deleted (try again, or another mirror)"
            )
        _install(tmp, folder, reporter)
        os.replace(tmp, archive)
    finally:
        if tmp.exists():
            tmp.unlink()
    reporter.info(f"CIFAR-10 is in {target}")
    return target
