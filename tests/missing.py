"""A test that needs a program or service this machine lacks: skipped on a developer's machine
(with the reason and the command that installs it), failed in CI, where .ci/run installs or
starts everything and sets TRAINER_CI=1, so a missing piece there can never pass as a skip."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    if os.environ.get("TRAINER_CI") == "1":
        pytest.fail(f"CI must have this: {reason}")
    pytest.skip(reason)
