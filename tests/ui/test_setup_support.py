"""Setup's task reads are cached by content (issue 26): a file rewritten in place with the same size and mtime is
read again, an unchanged one is not."""
import os

from mosecrot_viz.ui import setup_support


def test_a_task_rewritten_in_place_with_the_same_size_and_mtime_is_read_again(tmp_path, monkeypatch):
    path = tmp_path / "test.tsv"
    path.write_text("text\tlabel\nsalut\ta\nciao\tb\n")
    stamp = os.stat(path)
    assert sorted(setup_support.check_input("test", str(path))["label"]) == ["a", "b"]
    path.write_text("text\tlabel\nsalut\tc\nciao\td\n")  # same size
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # same mtime: a (size, mtime) key would serve a, b
    assert os.stat(path).st_size == stamp.st_size
    assert sorted(setup_support.check_input("test", str(path))["label"]) == ["c", "d"]
    reads = []
    monkeypatch.setattr(setup_support, "load_task", lambda p: reads.append(p))
    setup_support.check_input("test", str(path))
    assert not reads  # unchanged content: served from the cache


def test_a_missing_or_special_file_is_left_to_the_loader_to_name(tmp_path):
    import pytest

    from mosecrot_viz.errors import PathError

    os.mkfifo(tmp_path / "pipe.tsv")
    with pytest.raises(PathError, match="is a FIFO"):
        setup_support.check_input("test", str(tmp_path / "pipe.tsv"))  # refused by stat, never hashed (no hang)
    with pytest.raises(PathError, match="not found"):
        setup_support.check_input("test", str(tmp_path / "nowhere.tsv"))
