"""Read WebVTT subtitle files (the subset browsers need for lesson subtitles). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

TIMESTAMP = re.compile(r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})")
TIMING = re.compile(rf"({TIMESTAMP.pattern})[ \t]+-->[ \t]+({TIMESTAMP.pattern})(?:[ \t].*)?")


class WebVTTError(ValueError):
    """The text is not valid WebVTT; the message names the line."""


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    identifier: str = ""
    line: int = 0
    """Line number (from 1) of the cue's timing line."""


def _seconds(stamp: str) -> float:
    match = TIMESTAMP.fullmatch(stamp)
    assert match is not None
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def parse_webvtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file, in file order.

    Raises `WebVTTError` for a missing ``WEBVTT`` header, a malformed timing line, a cue that
    ends before it starts, or a cue that starts before the one above it.
    """
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0]
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise WebVTTError("line 1: a WebVTT file must start with WEBVTT")
    cues: list[Cue] = []
    i = 1
    while i < len(lines) and lines[i].strip():  # the header block
        i += 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block: list[str] = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        if block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in block[0]:
            continue
        identifier = ""
        timing_index = 0
        if "-->" not in block[0]:
            identifier = block[0]
            timing_index = 1
        if timing_index >= len(block) or "-->" not in block[timing_index]:
            raise WebVTTError(f"line {block_start + 1}: expected a cue timing line (a --> b)")
        line_no = block_start + timing_index + 1
        match = TIMING.fullmatch(block[timing_index].strip())
        if match is None:
            raise WebVTTError(
                f"line {line_no}: malformed cue timing {block[timing_index].strip()!r}"
            )
        start = _seconds(match.group(1))
        end = _seconds(match.group(6))
        if end <= start:
            raise WebVTTError(f"line {line_no}: cue ends ({end:.3f} s) before it starts")
        if cues and start < cues[-1].start:
            raise WebVTTError(
                f"line {line_no}: cue starts at {start:.3f} s, before the previous cue "
                f"({cues[-1].start:.3f} s)"
            )
        payload = "\n".join(block[timing_index + 1 :])
        cues.append(Cue(start, end, payload, identifier, line_no))
    return cues
