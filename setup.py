"""Build hooks: the sample cards copied from seeds/ into the package (curator/sample_cards/) of a wheel, and
the card reader's optional C extension.

Everything else about the package is declared in pyproject.toml. seeds/ stays the one copy in git; the
cards it ships are chosen by curator.samples.sample_files (loaded from its file: nothing is installed yet).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _samples_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_curator_samples", ROOT / "curator" / "samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithSamples(build_py):
    """build_py, plus the sample cards as package data (an editable install reads seeds/ directly)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        samples = _samples_module()
        seeds = ROOT / "seeds"
        target = Path(self.build_lib) / "curator" / samples.PACKAGE_FOLDER
        for rel in samples.sample_files(seeds):
            out = target.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(seeds.joinpath(*rel.parts), out)


#: The card reader's fast path (curator/core/_fastcard.c), linked to the system's libyaml. Optional: where
#: no compiler or libyaml headers are found, Curator installs without it and reads every card through
#: PyYAML's composer (the same values, slower: see curator.core.cardnodes.fast_values).
FASTCARD = Extension("curator.core._fastcard", ["curator/core/_fastcard.c"], libraries=["yaml"], optional=True)

setup(cmdclass={"build_py": BuildWithSamples}, ext_modules=[FASTCARD])
