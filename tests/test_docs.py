"""The examples in the public docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest

import fastattn
from conftest import ROOT

MODULES = sorted({importlib.import_module(getattr(fastattn, name).__module__).__name__
                  for name in fastattn.__all__ if callable(getattr(fastattn, name))})


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module} has no examples"
    assert result.failed == 0


def test_every_public_function_has_an_example():
    missing = [name for name in fastattn.__all__ if callable(getattr(fastattn, name))
               and ">>>" not in (getattr(fastattn, name).__doc__ or "")]
    assert not missing, missing


def test_readme_tour_runs():
    """The README's tour, as a user would paste it, at a quarter of its sequence length (every
    line runs; the emulated CI runs stay short)."""
    text = (ROOT / "README.md").read_text()
    tour = re.search(r"## Tour\n\n```python\n(.*?)```", text, re.S)
    assert tour, "README.md has no python block under '## Tour'"
    code = tour.group(1)
    assert "1024" in code
    exec(compile(code.replace("1024", "256"), "README.md tour", "exec"), {})
