"""Writing files so that an interruption never leaves a half-written one."""

import contextlib
import os
import tempfile

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, mode="wb", suffix=".tmp"):
    """Open a temporary file beside ``path``; rename it onto ``path`` when the block succeeds.

    The rename is atomic on one file system, so ``path`` holds either the
    old content or the complete new one. If the block raises (or the
    process is killed) the temporary file is removed (or left with a
    ``.tmp`` name that no reader looks for), never passed off as ``path``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=suffix)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
