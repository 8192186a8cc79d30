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
