"""The shape of the public API and of the Python layer, checked so that new ops follow it:
options keyword-only with the shared names, annotated parameters, no import cycles among
fastattn's modules, no private name imported across modules but from the validation layer."""

from __future__ import annotations

import ast
import inspect

import pytest

import fastattn
from conftest import ROOT

SDPA_TORCH_ORDER = ["query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale",
                    "enable_gqa"]
PUBLIC = sorted(name for name in fastattn.__all__ if inspect.isfunction(getattr(fastattn, name)))
PACKAGE = ROOT / "fastattn"


def _signature(name):
    return inspect.signature(getattr(fastattn, name))


@pytest.mark.parametrize("name", PUBLIC)
def test_options_are_keyword_only(name):
    params = list(_signature(name).parameters.values())
    if name == "scaled_dot_product_attention":
        assert [p.name for p in params[:8]] == SDPA_TORCH_ORDER
        params = params[8:]
    loose = [p.name for p in params
             if p.default is not p.empty and p.kind is not p.KEYWORD_ONLY]
    assert not loose, f"{name}: options {loose} must be keyword-only"


@pytest.mark.parametrize("name", PUBLIC)
def test_parameters_and_result_are_annotated(name):
    sig = _signature(name)
    bare = [p.name for p in sig.parameters.values() if p.annotation is p.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert not bare, f"{name}: unannotated {bare}"
    assert sig.return_annotation is not sig.empty, name


def test_shared_option_names_have_shared_defaults():
    """An option that several functions take means the same in each: same default."""
    defaults = {}
    for name in PUBLIC:
        for p in _signature(name).parameters.values():
            if p.kind is p.KEYWORD_ONLY:
                defaults.setdefault(p.name, {}).setdefault(repr(p.default), []).append(name)
    for option in ("mask", "causal", "scale", "precision", "variant", "num_threads"):
        assert len(defaults.get(option, {})) <= 1, (option, defaults[option])


def _imports(path):
    """fastattn modules imported at the top level of `path`, and private names imported."""
    tree = ast.parse(path.read_text())
    modules, private = set(), []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "fastattn"):
            if node.module == "fastattn":
                modules.update(f"fastattn.{a.name}" for a in node.names)
            else:
                modules.add(node.module)
                private += [(node.module, a.name) for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            modules.update(a.name for a in node.names if a.name.startswith("fastattn"))
    return modules, private


def _graph():
    graph = {}
    for path in PACKAGE.glob("*.py"):
        name = "fastattn" if path.stem == "__init__" else f"fastattn.{path.stem}"
        graph[name] = _imports(path)[0]
    return graph


def test_no_import_cycles():
    graph = _graph()
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if dep == "fastattn" or dep not in graph:
                continue
            assert state.get(dep) != "open", " -> ".join(stack + [dep])
            if dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_private_names_come_only_from_private_modules():
    """A module may import another's private helper only from an underscore module (the
    validation layer and the bindings), never from a public op module."""
    for path in PACKAGE.glob("*.py"):
        for module, name in _imports(path)[1]:
            assert module.rsplit(".", 1)[-1].startswith("_"), f"{path.name}: {module}.{name}"


def test_python_files_stay_under_400_lines():
    for path in sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "tests").glob("*.py")):
        assert len(path.read_text().splitlines()) <= 400, path
