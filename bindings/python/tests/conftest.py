"""Finds the build to test: $LIC_BUILD_DIR, else the repository's .build/release
or .build/debug (the first holding liblicembed.so and lic)."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def build_directory() -> pathlib.Path:
    explicit = os.environ.get("LIC_BUILD_DIR")
    candidates = [pathlib.Path(explicit)] if explicit else [ROOT / ".build" / "release", ROOT / ".build" / "debug"]
    for directory in candidates:
        if (directory / "liblicembed.so").is_file() and (directory / "lic").is_file():
            return directory
    raise RuntimeError(f"no build with liblicembed.so and lic in {', '.join(map(str, candidates))}: run swift build first")


BUILD = build_directory()
os.environ.setdefault("LIC_EMBED_LIBRARY", str(BUILD / "liblicembed.so"))


@pytest.fixture(scope="session")
def lic_executable() -> pathlib.Path:
    return BUILD / "lic"


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT
