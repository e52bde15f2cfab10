"""trainer: online training and exam platform for workplace safety certification."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. Nothing is read or connected until this is called."""
    from trainer.app import build

    return build(config)
