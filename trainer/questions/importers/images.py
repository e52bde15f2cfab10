"""Embedded images: decoded and re-encoded with Pillow before they are kept.

Re-encoding drops metadata (EXIF, GPS) and anything smuggled after the image data, and bounds
the size: the longest side is reduced to ``ImportLimits.max_image_side``. Images with
transparency, PNGs and GIFs become PNG; everything else becomes JPEG.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import PurePosixPath

from flask_babel import LazyString
from flask_babel import lazy_gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from trainer.questions.importers.limits import DEFAULT_LIMITS, ImportLimits
from trainer.questions.types import QuestionImage

_READABLE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF")
_LOSSLESS_FORMATS = ("PNG", "GIF", "BMP", "TIFF")
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\-]+")
JPEG_QUALITY = 85


class ImageRejected(ValueError):
    def __init__(self, reason: LazyString) -> None:
        super().__init__(str(reason))
        self.reason = reason


def safe_image_name(name: str, extension: str) -> str:
    """A plain file name: no directories, no odd characters, the new extension."""
    stem = PurePosixPath(name.replace("\\", "/")).stem
    stem = _UNSAFE_NAME_CHARS.sub("_", stem).strip("._")[:80] or "image"
    return f"{stem}.{extension}"


def reencode_image(
    data: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS
) -> QuestionImage:
    """Return the image as PNG or JPEG, or raise ImageRejected with a reason."""
    if len(data) > limits.max_image_bytes:
        raise ImageRejected(
            _(
                "File “%(name)s” is larger than %(limit)s MB and was dropped.",
                name=filename,
                limit=f"{limits.max_image_bytes / (1024 * 1024):g}",
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                source_format = opened.format or ""
                if source_format not in _READABLE_FORMATS:
                    raise UnidentifiedImageError(source_format)
                width, height = opened.size
                if width * height > limits.max_image_pixels:
                    raise ImageRejected(
                        _("Image “%(name)s” has too many pixels and was dropped.", name=filename)
                    )
                side = limits.max_image_side
                if source_format == "JPEG":
                    opened.draft("RGB", (side, side))  # decode a smaller JPEG directly
                opened.load()
                image = ImageOps.exif_transpose(opened)
                image.thumbnail((side, side))
                keeps_alpha = image.mode in ("RGBA", "LA", "PA") or (
                    image.mode == "P" and "transparency" in image.info
                )
                out = io.BytesIO()
                if keeps_alpha or source_format in _LOSSLESS_FORMATS:
                    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                        image = image.convert("RGBA" if keeps_alpha else "RGB")
                    image.save(out, format="PNG")
                    return QuestionImage(
                        safe_image_name(filename, "png"), out.getvalue(), "image/png"
                    )
                image.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY)
                return QuestionImage(safe_image_name(filename, "jpg"), out.getvalue(), "image/jpeg")
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected(
            _("File “%(name)s” is not a supported image and was dropped.", name=filename)
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
        raise ImageRejected(
            _("Image “%(name)s” is damaged and was dropped.", name=filename)
        ) from None
