"""Objects the app shares between sessions are read-only: an in-place change raises instead of
silently changing what another session sees."""
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import write_vec

from mosecrot_viz.ui.cached import read_only, vectors


@dataclass
class _Holder:
    arrays: dict
    name: str = "x"


def test_read_only_reaches_arrays_inside_containers():
    a, b, c = np.zeros(3), np.ones((2, 2)), np.arange(4.0)
    holder = read_only(_Holder({"m": (a, [b])}, name="kept"))
    for arr in (a, b):
        with pytest.raises(ValueError, match="read-only"):
            arr += 1
    c += 1  # arrays outside the object are untouched
    assert holder.name == "kept" and c[0] == 1


def test_cached_vectors_are_shared_and_read_only(tmp_path):
    path = tmp_path / "v.vec"
    write_vec(path, ["a", "b", "c"], dim=4)
    kv = vectors(str(path))
    assert vectors(str(path)) is kv  # one copy for every session
    with pytest.raises(ValueError, match="read-only"):
        kv.vectors[0] *= 2
    assert kv.most_similar("a", topn=1)  # reading (norms, similarities) still works
