"""A calibrated reader shared by the app tests (committed model, else a small cached MLP)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

# kept across sessions on one machine so local reruns skip the few seconds of training
CACHE = Path(tempfile.gettempdir()) / "rosenblatt-test-zip-reader"


@pytest.fixture(scope="session")
def zip_reader(tmp_path_factory: pytest.TempPathFactory):
    from rosenblatt.apps.digits.reader import small_reader

    return small_reader(CACHE)
