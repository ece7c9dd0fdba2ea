"""Builds fastattn._core: fastattn/_core.pyx plus the C kernels for the target CPU.

ISA flags are set per file inside the C sources (pragmas / target attributes),
never library-wide, so the dispatcher and scalar code run on any CPU of the
architecture. Only the kernel files of the target architecture are compiled: a file
named <dtype>-<isa>.c builds where csrc/include/fastattn/isa.def says that ISA's
architecture is (any: everywhere).
"""

import os
import platform
import re
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).parent


def target_arch() -> str:
    """The architecture being built for, honouring cross builds."""
    explicit = os.environ.get("FASTATTN_TARGET_ARCH")
    if explicit:
        return explicit
    host_platform = os.environ.get("_PYTHON_HOST_PLATFORM", "")
    for name in ("aarch64", "arm64", "x86_64"):
        if name in host_platform:
            return name
    return platform.machine().lower()


def isa_archs() -> dict:
    """{isa name: architecture} from the rows of isa.def (FA_ISA(name, rank, arch, ...))."""
    text = (ROOT / "csrc" / "include" / "fastattn" / "isa.def").read_text()
    return dict(re.findall(r"^FA_ISA\((\w+),\s*\d+,\s*(\w+)", text, re.MULTILINE))


def kernel_sources(arch: str) -> list:
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    archs = isa_archs()
    sources = []
    for path in sorted((ROOT / "csrc").rglob("*.c")):
        isa = path.stem.rsplit("-", 1)[-1]
        if archs.get(isa, "any") not in ("any", arch):
            continue
        sources.append(str(path.relative_to(ROOT)))
    return sources


extension = Extension(
    "fastattn._core",
    sources=["fastattn/_core.pyx", *kernel_sources(target_arch())],
    include_dirs=["csrc/include", "csrc"],
    # setuptools rebuilds every source when any of these changes (it tracks no includes itself)
    depends=[str(p.relative_to(ROOT)) for p in sorted((ROOT / "csrc").rglob("*.h"))]
    + [str(p.relative_to(ROOT)) for p in sorted((ROOT / "csrc").rglob("*.def"))]
    + ["fastattn/_capi.pxd"]
    + [str(p.relative_to(ROOT)) for p in sorted((ROOT / "fastattn").glob("*.pxi"))],
    extra_compile_args=["-std=gnu11", "-O3", "-fno-math-errno"] if os.name != "nt" else [],
    libraries=["m", "pthread"] if os.name != "nt" else [],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

setup(
    ext_modules=cythonize(
        [extension],
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )
)
