"""Decoding uploaded text files: UTF-8 (with or without BOM), else GBK/GB18030."""

from __future__ import annotations

import codecs
import re

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class NotText(ValueError):
    def __init__(self, reason: LazyString) -> None:
        super().__init__(str(reason))
        self.reason = reason


def decode_text(data: bytes) -> str:
    """Decode an uploaded text file, or raise NotText with a message for the uploader.

    UTF-8 is tried first (a BOM is dropped); Chinese Windows tools save GBK, read here as its
    superset GB18030. UTF-16/32 and binary files are refused rather than guessed at.
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or data.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        return _raise(_("The file is saved as UTF-16; save it as UTF-8 (or CSV UTF-8) instead."))
    if b"\x00" in data:
        return _raise(_("This is not a text file (it contains binary data)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            return _raise(
                _("The file is neither UTF-8 nor GBK text; save it as UTF-8 and upload it again.")
            )
    text = text.rstrip("\x1a")  # DOS end-of-file marker left by old tools
    if _BINARY.search(text):
        return _raise(_("This is not a text file (it contains binary data)."))
    return text


def _raise(reason: LazyString) -> str:
    raise NotText(reason)
