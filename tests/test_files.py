"""atomic_write: the target holds the old content or the whole new one, never a part."""

import pytest

from convlearn._files import atomic_write


def test_a_finished_block_replaces_the_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_write(target, "w") as f:
        f.write("new")
        assert target.read_text() == "old"  # not visible until the block ends
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failing_block_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as f:
            f.write("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_the_folder_is_created(tmp_path):
    with atomic_write(tmp_path / "a" / "b.bin") as f:
        f.write(b"x")
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"x"


def test_the_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "shared.bin") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "shared.bin").stat().st_mode & 0o777 == 0o644


def test_array_digest_tells_data_apart():
    import numpy as np

    from convlearn._files import array_digest

    a = np.arange(12, dtype=np.uint8)
    assert array_digest(a) == array_digest(a.copy())
    assert array_digest(a) != array_digest(a.reshape(3, 4))  # the shape counts
    b = a.copy()
    b[5] += 1
    assert array_digest(a) != array_digest(b)
    assert array_digest(a) != array_digest(a.astype(np.int64))
