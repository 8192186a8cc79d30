"""CIFAR-10: read the python batches safely (`convlearn.datasets.download` fetches them).

The "python version" of CIFAR-10 (Krizhevsky, 2009) is a folder,
``cifar-10-batches-py``, of seven pickles written by Python 2 (protocol 2)::

    data_batch_1 .. data_batch_5   10,000 training images each
    test_batch                     10,000 test images
    batches.meta                   the class names

A batch is a dict with bytes keys: ``b"data"`` a (10000, 3072) uint8 array,
each row one 32 x 32 image stored plane after plane (1024 red values, then
1024 green, then 1024 blue, each plane row-major), so a plain reshape gives
NCHW; ``b"labels"`` a list of 10,000 ints in [0, 10).

Pickles can run code while they load, so they are read with
`_BatchUnpickler`, which admits only the few globals a genuine batch needs.
Nothing here touches the network.
"""

import pickle
import tarfile
from pathlib import Path

import numpy as np

from .core import Dataset

__all__ = [
    "load_cifar10",
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "CIFAR10_ARCHIVE",
    "CIFAR10_FOLDER",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # of the archive, as published with it
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"

_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_FILE = "test_batch"
_META_FILE = "batches.meta"
_FILES = _TRAIN_FILES + (_TEST_FILE, _META_FILE)
_N_CLASSES = 10
_PIXELS = 3 * 32 * 32  # one row of b"data": the R, G and B planes, 32 x 32 each


# ---- the restricted unpickler ----------------------------------------------


def _latin1_bytes(text, encoding):
    """Stand-in for ``_codecs.encode(text, "latin1")``, the only call of it we admit.

    Python 3 writes a bytes object at protocol 2 as that call (Python 2 wrote
    a plain string instead); this stand-in can do nothing else.
    """
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(
            f"_codecs.encode({text!r:.40}, {encoding!r}) is not admitted"
        )
    return text.encode("latin-1")


# A numpy array pickles as _reconstruct(ndarray, (0,), b"b") followed by
# __setstate__((version, shape, dtype, is_fortran, raw bytes)), and its dtype
# as dtype("u1", False, True) with a __setstate__ of its own. So a genuine
# batch names exactly three numpy globals (pickletools.dis shows them). The
# module of _reconstruct is numpy.core.multiarray for files written by numpy
# 1.x (the genuine ones) and numpy._core.multiarray for numpy 2.x. We map the
# names to the objects themselves, so numpy.core (deprecated in numpy 2) is
# never imported.
_reconstruct = np.ndarray(0).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_bytes,
}


class _ForbiddenGlobal(ValueError):
    """A pickle asked for a global outside `_ALLOWED_GLOBALS`."""


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR batches: plain containers, bytes, str, numbers, uint8 arrays.

    Every global a pickle names (the only way it can reach a callable)
    passes through `find_class`; anything outside `_ALLOWED_GLOBALS`
    (os.system, builtins.eval, subprocess, other numpy functions, ...) is
    refused before it is imported, let alone called.
    """

    def __init__(self, file, where):
        super().__init__(file, encoding="bytes")  # Python 2 str -> bytes, as written
        self.where = where

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _ForbiddenGlobal(
                f"{self.where}: refusing to unpickle the global {module}.{name}; a CIFAR "
                "batch holds only dicts, lists, bytes, str, numbers and uint8 numpy "
                "arrays, so this file is not a genuine batch (it could run code)"
            ) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not admitted")


def _unpickle(file, where):
    """The object pickled in the binary file object `file`; `where` names it in errors."""
    try:
        return _BatchUnpickler(file, where).load()
    except _ForbiddenGlobal:
        raise
    except Exception as exc:  # any failure to decode means a damaged file
        raise ValueError(
            f"{where}: cannot read this CIFAR-10 batch, it is truncated or corrupt "
            f"({type(exc).__name__}: {exc})"
        ) from exc


# ---- checking what the pickles hold -----------------------------------------


def _plain_keys(d, where):
    """The dict d with bytes keys decoded to str (Python 2 batches have bytes keys)."""
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a dict, got {type(d).__name__}")
    return {k.decode("latin-1") if isinstance(k, bytes) else k: v for k, v in d.items()}


def _batch_arrays(d, where):
    """A batch dict -> images (N, 3, 32, 32) uint8 (a view) and labels (N,) int64."""
    d = _plain_keys(d, where)
    data, labels = d.get("data"), d.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        got = (
            f"dtype {data.dtype}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise ValueError(f"{where}: 'data' must be a uint8 numpy array, got {got}")
    if data.ndim != 2 or data.shape[1] != _PIXELS or data.shape[0] == 0:
        raise ValueError(
            f"{where}: 'data' must have shape (N, {_PIXELS}), one 3 x 32 x 32 image per row, "
            f"got shape {data.shape}"
        )
    N = data.shape[0]
    y = np.asarray(labels) if isinstance(labels, (list, tuple, np.ndarray)) else None
    if y is None or y.dtype.kind not in "iu" or y.ndim != 1:
        raise ValueError(
            f"{where}: 'labels' must be a list of ints, got {labels!r:.80}"
        )
    if len(y) != N:
        raise ValueError(f"{where}: {len(y)} labels for {N} images")
    bad = (y < 0) | (y >= _N_CLASSES)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise ValueError(
            f"{where}: labels must be in [0, {_N_CLASSES}), got {y[i]} at index {i}"
        )
    return data.reshape(N, 3, 32, 32), y.astype(np.int64)  # rows are R, G, B planes


def _class_names(d, where):
    """The meta dict -> the ten class names as str."""
    names = _plain_keys(d, where).get("label_names")
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(n, (bytes, str)) for n in names
    ):
        raise ValueError(
            f"{where}: 'label_names' must be a list of strings, got {names!r:.80}"
        )
    names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
    if len(names) != _N_CLASSES or len(set(names)) != _N_CLASSES:
        raise ValueError(
            f"{where}: expected {_N_CLASSES} distinct label_names, got {names}"
        )
    return names


# ---- loading ----------------------------------------------------------------


def _read_folder(folder):
    """{file name: unpickled object} for the seven files of a cifar-10-batches-py folder."""
    out = {}
    for name in _FILES:
        file = folder / name
        if not file.is_file():
            raise ValueError(
                f"{file}: missing CIFAR-10 file {name} (the folder must hold {', '.join(_FILES)})"
            )
        with open(file, "rb") as f:
            out[name] = _unpickle(f, str(file))
    return out


def _member_file_name(member_name):
    """The CIFAR file a tar member name stands for, or None: 'cifar-10-batches-py/x' or 'x'."""
    parts = [p for p in member_name.split("/") if p not in ("", ".")]
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == CIFAR10_FOLDER):
        return parts[-1] if parts[-1] in _FILES else None
    return None


def _read_archive(archive):
    """{file name: unpickled object} read straight from the .tar.gz, in one pass, unextracted."""
    out = {}
    try:
        with tarfile.open(
            archive, "r|*"
        ) as tar:  # a stream: each member is decompressed once
            for member in tar:
                name = _member_file_name(member.name)
                if name is None:
                    continue
                where = f"{archive}: member {member.name}"
                if not member.isfile():
                    raise ValueError(f"{where}: expected a regular file")
                if name in out:
                    raise ValueError(f"{where}: the archive holds {name} twice")
                out[name] = _unpickle(tar.extractfile(member), where)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(
            f"{archive}: cannot read this archive, it is truncated or not a tar.gz "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    for name in _FILES:
        if name not in out:
            raise ValueError(
                f"{archive}: missing CIFAR-10 file {name} ({CIFAR10_FOLDER}/{name})"
            )
    return out


def load_cifar10(path) -> Dataset:
    """CIFAR-10 as a Dataset: 50,000 training and 10,000 test images, 32 x 32 RGB.

    Parameters
    ----------
    path : str or Path
        The extracted ``cifar-10-batches-py`` folder (or a folder holding
        it, such as the one `download_cifar10` fills), or the
        ``cifar-10-python.tar.gz`` archive itself, read without extracting.

    Returns
    -------
    Dataset
        x_train (N, 3, 32, 32) uint8 from data_batch_1..5 in order, y_train
        (N,) int64, x_test and y_test from test_batch, and classes from
        batches.meta (airplane, automobile, ..., truck). N is 50,000 for the
        real files; any number of images per batch is accepted.

    Raises
    ------
    FileNotFoundError
        `path` does not exist.
    ValueError
        A missing, truncated or malformed batch (the message names the file),
        or a pickle naming a global a genuine batch does not need.

    Notes
    -----
    Row k of a batch's data holds image k as its R plane, then G, then B,
    each 32 x 32 row-major, so ``data.reshape(N, 3, 32, 32)`` is NCHW.
    The pickles are read by a restricted unpickler that admits only plain
    containers, bytes, str, numbers and the numpy globals that rebuild a
    uint8 array (``numpy.core.multiarray._reconstruct`` or its numpy 2 name
    ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray``,
    ``numpy.dtype``); anything else is refused before it can run.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / _TRAIN_FILES[0]).exists() and (path / CIFAR10_FOLDER).is_dir():
            path = path / CIFAR10_FOLDER
        files = _read_folder(path)
    elif path.is_file():
        files = _read_archive(path)
    else:
        raise FileNotFoundError(
            f"{path}: no such CIFAR-10 folder or archive (download_cifar10() fetches it, or "
            f"`python -m convlearn.datasets download cifar10`)"
        )
    where = {
        name: str(path / name) if path.is_dir() else f"{path}: {name}"
        for name in _FILES
    }
    train = [_batch_arrays(files[name], where[name]) for name in _TRAIN_FILES]
    x_test, y_test = _batch_arrays(files[_TEST_FILE], where[_TEST_FILE])
    classes = _class_names(files[_META_FILE], where[_META_FILE])
    return Dataset(
        np.concatenate([x for x, _ in train]),
        np.concatenate([y for _, y in train]),
        x_test.copy(),  # own the pixels rather than view the pickle's array
        y_test,
        classes,
    )
