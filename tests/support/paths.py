"""Where the suite's files are: the repository, tests/, and the data under tests/fixtures/."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
CORPUS = FIXTURES / "corpus"
