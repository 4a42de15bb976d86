"""The runnable examples in the core objects' docstrings run and give what they show."""
import doctest
import importlib

import pytest

MODULES = ["mosecrot_viz.core.relative", "mosecrot_viz.core.mappers", "mosecrot_viz.core.anchors",
           "mosecrot_viz.core.bli", "mosecrot_viz.core.flops", "mosecrot_viz.core.numerics", "mosecrot_viz.atomic"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
