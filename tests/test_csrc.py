"""The C layer's one-list rules, checked against the tree: every compiled
<op>/<dtype>-<isa>.c is a variant of its op's table, ISA names and statuses come from
their .def files, the C tile sizes are what the tests are told, and the exp2 polynomials
are written once."""

import platform
import re
from pathlib import Path

import numpy as np
import pytest

from fastattn import _core, _dispatch
from fastattn.reference import decode_int8

CSRC = Path(__file__).resolve().parent.parent / "csrc"
# The emulated run copies tests/ without the source tree.
needs_csrc = pytest.mark.skipif(not CSRC.is_dir(), reason="no csrc/ beside the tests")


@needs_csrc
def test_every_isa_file_is_a_listed_variant():
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(),
                                                       platform.machine().lower())
    for op in ("dense", "sparse"):
        for path in sorted((CSRC / op).glob("*-*.c")):
            dtype, isa = path.stem.split("-", 1)
            if isa not in _core.ISA_NAMES or _core.ISA_ARCHS[isa] not in ("any", arch):
                continue
            names = [v.name for v in _dispatch.OPS[f"{op}-{dtype}"].variants]
            assert path.stem in names, f"{path} is compiled but not in {op}-{dtype}'s FA_ISAS"


@needs_csrc
def test_isa_and_status_names_come_from_their_def_files():
    isa_rows = [ln for ln in (CSRC / "include/fastattn/isa.def").read_text().splitlines()
                if ln.startswith("FA_ISA(")]
    assert _core.ISA_NAMES == tuple(ln[7:].split(",")[0] for ln in isa_rows)
    status_rows = [ln for ln in (CSRC / "include/fastattn/status.def").read_text().splitlines()
                   if ln.startswith("FA_STATUS(")]
    assert _core.STATUS_NAMES == tuple("FA_" + ln[10:].split(",")[0] for ln in status_rows)


def test_variants_are_listed_best_first_with_scalar_last():
    for name, op in _dispatch.OPS.items():
        dtype = name.split("-")[1]
        isas = [v.isa for v in op.variants]
        assert isas[-1] == "scalar" and op.variants[-1].name == f"{dtype}-scalar", name
        ranks = [_core.ISA_RANKS[i] for i in isas]
        assert ranks == sorted(ranks, reverse=True), name
        assert all(v.name == f"{dtype}-{v.isa}" for v in op.variants), name


def test_tiles_are_positive_and_int8_keys_fit_the_accumulator_bound():
    for dtype in ("f32", "i8"):
        t = _core.TILES[dtype]
        assert t["query_rows"] > 0 and t["keys"] > 0
    # flash/i8.h: acc <= keys * 127 * 127 must stay below 2^31; a u8 x s8 pair of P and v
    # (vpmaddubsw) below 2^15
    assert _core.TILES["i8"]["keys"] * 127 * 127 < 2**31 and 2 * 127 * 127 < 2**15


def _c_table(text, name):
    body = re.search(rf"\b{name}\[\d+\]\s*=\s*\{{([^}}]*)\}}", text).group(1)
    return [np.float32(c.strip().rstrip("f")) for c in body.split(",")]


@needs_csrc
def test_exp2_coefficients_are_written_once():
    header = (CSRC / "common/exp2.h").read_text()
    poly6, poly5 = _c_table(header, "fa_exp2_poly6"), _c_table(header, "fa_exp2_poly5")
    assert len(poly6) == 7 and len(poly5) == 6
    # the int8 decode reference restates the degree-6 table: it must be the same numbers
    assert list(decode_int8.EXP2_POLY) == poly6
    for path in sorted(CSRC.rglob("*.[ch]")):
        if path.name == "exp2.h":
            continue
        for c in re.findall(r"\d\.\d{6,}e-?\d+f?", path.read_text()):
            assert np.float32(c.rstrip("f")) not in poly6[:-1] + poly5, \
                f"{path} spells out exp2 coefficient {c}: use common/exp2.h"
