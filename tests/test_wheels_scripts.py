"""wheels/lib.sh's split_args, which wheels/test.sh uses to pass FASTATTN_PYTEST_ARGS to
pytest: words split as a shell splits them, quotes kept together, nothing evaluated."""

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "wheels" / "lib.sh"
# The emulated run copies tests/ without wheels/; lib.sh itself wants an x86-64 Debian host.
pytestmark = pytest.mark.skipif(
    not LIB.is_file() or shutil.which("bash") is None or shutil.which("apt-get") is None
    or platform.machine().lower() not in ("x86_64", "amd64"),
    reason="needs wheels/lib.sh, bash and an x86-64 Debian host")


def split_args(text, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "FASTATTN_WHEELS_CACHE": str(tmp_path / "cache"),
           "FASTATTN_HOST_PYTHON": sys.executable}
    return subprocess.run(["bash", "-c", 'source "$0" && split_args "$1"', str(LIB), text],
                          env=env, capture_output=True, cwd=tmp_path)


@pytest.mark.parametrize("text, words", [
    ('-x -k "dense or decode"', ["-x", "-k", "dense or decode"]),
    ("-k 'not (slow and i8)' -m emu", ["-k", "not (slow and i8)", "-m", "emu"]),
    (r"-k a\ b  --tb=short", ["-k", "a b", "--tb=short"]),
    ("", []),
])
def test_words_split_as_a_shell_splits_them(text, words, tmp_path):
    run = split_args(text, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split(b"\0")[:-1] == [w.encode() for w in words]


def test_nothing_is_expanded_or_run(tmp_path):
    run = split_args('-k "$(touch ran)" $HOME `touch ran2`', tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split(b"\0")[:-1] == [b"-k", b"$(touch ran)", b"$HOME", b"`touch", b"ran2`"]
    assert not (tmp_path / "ran").exists() and not (tmp_path / "ran2").exists()


def test_an_unbalanced_quote_fails(tmp_path):
    run = split_args('-k "dense or', tmp_path)
    assert run.returncode != 0
    assert b"quotation" in run.stderr
