"""The examples in koubo's docstrings run and print what they say.

Every module of ``pipeline`` is imported and its ``>>>`` examples are run by :mod:`doctest` from the repository
root (they read ``corpora/`` by relative path). An example that needs a built embedding model or a running server
is marked ``# doctest: +SKIP`` in place, so it still reads as an example but is not run here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import pipeline

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline.") if m.name != "pipeline.__main__")


def test_every_module_is_found() -> None:
    assert {"pipeline.structure", "pipeline.nlp", "pipeline.nlp.values", "pipeline.serve.api"} <= set(MODULES)


@pytest.mark.parametrize("name", ["pipeline", *MODULES])
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    for test in finder.find(module, name):
        out: list[str] = []
        result = runner.run(test, out=out.append)
        if result.failed:
            failures.append("".join(out))
    assert not failures, "\n".join(failures)
