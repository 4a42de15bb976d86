"""The one atomic writer (atomic.atomic_path / atomic_dir): all or nothing, and two writers of one cache entry."""
import errno
import os

import pytest

from mosecrot_viz import atomic
from mosecrot_viz.atomic import atomic_dir, atomic_path


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_a_folder_is_replaced_whole_or_kept(tmp_path):
    target = tmp_path / "entry"
    target.mkdir()
    (target / "old").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["new"]  # replaced whole, the old file gone with it
    with atomic_dir(target, keep=lambda p: (p / "new").exists()) as tmp:
        (tmp / "newer").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["new"]  # a finished entry is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]  # no temp folder left behind


def test_a_second_writer_that_loses_the_race_keeps_the_first_entry(tmp_path, monkeypatch):
    """The first writer's rename lands between the second's check and its own rename (ENOTEMPTY): the second
    writer drops its copy and goes on instead of failing the run after its fine-tune."""
    target = tmp_path / "entry"
    real_replace = os.replace

    def racing_replace(src, dst):
        if str(dst) == str(target) and not target.exists():
            target.mkdir()
            (target / "history.json").write_text("{}")  # the other writer finished just now
            raise OSError(errno.ENOTEMPTY, "Directory not empty")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", racing_replace)
    with atomic_dir(target, keep=lambda p: (p / "history.json").exists()) as tmp:
        (tmp / "history.json").write_text('{"mine": 1}')
    assert (target / "history.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]
    with pytest.raises(OSError):  # without a finished entry to keep, the error is not swallowed
        with atomic_dir(tmp_path / "other") as tmp:
            monkeypatch.setattr(atomic.os, "replace", lambda s, d: (_ for _ in ()).throw(OSError(errno.EIO, "io")))
            (tmp / "x").write_text("1")
