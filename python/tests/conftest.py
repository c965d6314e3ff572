"""Shared fixtures: the command-line program to compare with, and a clean environment (no
PIEST_* variable of the caller's shell reaches a test)."""

import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("PIEST_"):
            monkeypatch.delenv(name)
    # Tests that do not name a cache use a fresh one, never the user's.
    monkeypatch.setenv("PIEST_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture(scope="session")
def cli():
    """The piest program: $PIEST_BIN, else the workspace's build, else one on PATH."""
    candidates = [os.environ.get("PIEST_BIN")]
    candidates += [str(ROOT / "target" / p / "piest") for p in ("release", "ci-python", "debug")]
    candidates.append(shutil.which("piest"))
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    print("SKIP: no piest program found (set PIEST_BIN or run cargo build)")
    pytest.skip("no piest program found (set PIEST_BIN or run cargo build)")
