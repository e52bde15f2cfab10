#!/usr/bin/env python3
"""Make the demo course 开工第一课 (courses/first-lesson-return-to-work/) from its script.

    python courses/tools/make_first_lesson.py              # regenerate everything
    python courses/tools/make_first_lesson.py --phonemes   # proof-read espeak-ng's readings

Reads courses/tools/first_lesson_script.toml. For each lesson it renders every slide to an image
with Pillow (Noto Sans CJK), speaks every narration line with espeak-ng's Mandarin voice, times
each line by the real length of its audio (ffprobe), and writes into the course folder:

    media/NN-<lesson-id>.mp4        H.264 Main yuv420p 854x480 + mono AAC, faststart
    media/NN-<lesson-id>.zh-CN.vtt  one cue per narration line
    media/NN-<lesson-id>.jpg        poster (the title slide)
    course.toml                     the manifest, durations measured from the MP4s

Output is deterministic: same inputs and tool versions give byte-identical files (fixed
encoder threads, bitexact muxing, no timestamps). Needs ffmpeg, espeak-ng, fonts-noto-cjk.
"""

from __future__ import annotations

import argparse
import array
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("first_lesson_script.toml")
COURSE_DIR = REPO / "courses" / "first-lesson-return-to-work"
MEDIA_DIR = "media"

WIDTH, HEIGHT = 854, 480
FPS = 10  # still slides: a low frame rate costs nothing in quality
KEYFRAME_SECONDS = 10
CRF = 30
AUDIO_KBPS = 48
VOICE = "cmn-latn-pinyin"  # reads Hanzi as Mandarin and Latin text as pinyin with tone digits
SPEED_WPM = 185
PEAK_DBFS = -3.0  # espeak-ng peaks near 0 dBFS; leave headroom for the AAC encoder
LEAD_SECONDS = 0.25  # silence before each line
TAIL_SECONDS = 0.4  # silence after each line
FIRST_LEAD_SECONDS = 0.8  # the title card shows before the voice starts
LAST_TAIL_SECONDS = 1.2  # and the last slide stays a moment after it stops
TOOL_TIMEOUT = 300

NAVY = (18, 53, 91)
ORANGE = (242, 140, 40)
PAPER = (247, 249, 252)
INK = (31, 41, 51)
MUTED = (96, 110, 125)
PALE = (200, 214, 229)
WHITE = (255, 255, 255)
BAR_HEIGHT = 56
SUBTITLE_ZONE = 88  # bottom band left empty: the player draws subtitles there
MARGIN = 40

NUMERALS = "一二三四五六七八九十"
MARKUP = re.compile(r"\{([^{}|]*)\|([^{}|]*)\}")
NO_LINE_START = set("，。、；：！？）》」』”’…%℃")


def shown(line: str) -> str:
    return MARKUP.sub(r"\1", line)


def spoken(line: str) -> str:
    return MARKUP.sub(r"\2", line)


def fail(message: str) -> None:
    sys.exit(f"make_first_lesson: {message}")


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        fail(f"{name} not found; install it with `apt-get install {package}`")
    assert path is not None
    return path


def run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(args, capture_output=True, timeout=TOOL_TIMEOUT, check=False)  # noqa: S603
    if result.returncode != 0:
        fail(f"{Path(args[0]).name} failed: {result.stderr.decode('utf-8', 'replace').strip()}")
    return result


def duration_of(path: Path) -> float:
    out = run([
        tool("ffprobe", "ffmpeg"), "-v", "error", "-show_entries", "format=duration",
        "-of", "default=noprint_wrappers=1:nokey=1", "file:" + str(path),
    ])  # fmt: skip
    return float(out.stdout.decode().strip())


# --- slides ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    index: int

    def get(self, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(self.bold if bold else self.regular, size, index=self.index)


def find_fonts() -> Fonts:
    fc_match = tool("fc-match", "fontconfig")
    found: list[tuple[str, int]] = []
    for style in ("Regular", "Bold"):
        out = run([fc_match, "-f", "%{file}\n%{index}", f"Noto Sans CJK SC:style={style}"])
        file, index = out.stdout.decode().split("\n")
        if "NotoSansCJK" not in Path(file).name:
            fail("Noto Sans CJK not found; install it with `apt-get install fonts-noto-cjk`")
        found.append((file, int(index)))
    (regular, sc_index), (bold, _) = found
    return Fonts(regular, bold, sc_index)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Break Chinese text at any character, never starting a line with closing punctuation."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and font.getlength(line + char) > width and char not in NO_LINE_START:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


def text_at(
    draw: ImageDraw.ImageDraw,
    x: float,
    middle: float,
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: tuple[int, int, int],
    align: str = "left",
) -> None:
    """Draw text whose inked part is centred on ``middle`` (CJK fonts sit low on "lm")."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, anchor="lt")
    if align == "center":
        x -= (left + right) / 2
    elif align == "right":
        x -= right
    draw.text((x, middle - (top + bottom) / 2), text, font=font, fill=fill, anchor="lt")


def header(draw: ImageDraw.ImageDraw, fonts: Fonts, left: str, right: str) -> None:
    draw.rectangle((0, 0, WIDTH, BAR_HEIGHT), fill=NAVY)
    draw.rectangle((0, BAR_HEIGHT, WIDTH, BAR_HEIGHT + 5), fill=ORANGE)
    font = fonts.get(22, bold=True)
    text_at(draw, MARGIN, BAR_HEIGHT / 2, left, font, WHITE)
    text_at(draw, WIDTH - MARGIN, BAR_HEIGHT / 2, right, font, PALE, align="right")


def title_card(fonts: Fonts, course: dict[str, Any], lesson: dict[str, Any], n: int) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), NAVY)
    draw = ImageDraw.Draw(image)
    centre = WIDTH / 2
    kicker = course["title"]["zh_CN"] + " · 复工复产安全培训"
    text_at(draw, centre, 74, kicker, fonts.get(26, bold=True), ORANGE, "center")
    draw.rectangle((centre - 40, 104, centre + 40, 108), fill=ORANGE)
    text_at(draw, centre, 150, f"第{NUMERALS[n - 1]}讲", fonts.get(30), PALE, "center")
    title_font = fonts.get(46, bold=True)
    y = 215
    for line in wrap(lesson["title"]["zh_CN"], title_font, WIDTH - 2 * MARGIN):
        text_at(draw, centre, y, line, title_font, WHITE, "center")
        y += 62
    english = fonts.get(22)
    for line in wrap_words(lesson["title"]["en"], english, WIDTH - 4 * MARGIN):
        text_at(draw, centre, y + 4, line, english, PALE, "center")
        y += 32
    return image


def wrap_words(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def content_slide(
    fonts: Fonts, slide: dict[str, Any], label: str, page: str, *, summary: bool
) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    header(draw, fonts, label, page)
    draw.text((MARGIN, 88), slide["heading"], font=fonts.get(40, bold=True), fill=NAVY, anchor="lt")
    y = 160
    if summary:
        font = fonts.get(38, bold=True)
        for bullet in slide["bullets"]:
            draw.rounded_rectangle(
                (MARGIN, y - 4, WIDTH - MARGIN, y + 48), 10, fill=WHITE, outline=PALE, width=2
            )
            text_at(draw, MARGIN + 24, y + 22, bullet, font, INK)
            y += 60
        return image
    font = fonts.get(32)
    text_x = MARGIN + 30
    for bullet in slide["bullets"]:
        lines = wrap(bullet, font, WIDTH - text_x - MARGIN)
        draw.ellipse((MARGIN + 2, y + 13, MARGIN + 16, y + 27), fill=ORANGE)
        for line in lines:
            draw.text((text_x, y), line, font=font, fill=INK, anchor="lt")
            y += 44
        y += 12
    if y > HEIGHT - SUBTITLE_ZONE + 12:
        fail(f"slide {slide['heading']!r} is too long: its text runs into the subtitle area")
    return image


# --- narration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def speak(text: str, dest: Path) -> None:
    espeak = tool("espeak-ng", "espeak-ng")
    run([espeak, "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(dest), text])


def narrate(lines: list[list[str]], work: Path, out_wav: Path) -> tuple[list[Cue], list[int]]:
    """Speak every line into one WAV; return its cues and each slide's length in frames.

    Each line gets a lead and a tail of silence, padded so that every slide (and so every cue
    boundary) falls on a video frame boundary.
    """
    cues: list[Cue] = []
    slide_frames: list[int] = []
    pcm = bytearray()
    rate = 0
    total_lines = sum(len(x) for x in lines)
    count = 0
    for s, slide_lines in enumerate(lines):
        slide_start = len(pcm) // 2
        for i, line in enumerate(slide_lines):
            count += 1
            wav_path = work / f"line-{s:02d}-{i:02d}.wav"
            speak(spoken(line), wav_path)
            seconds = duration_of(wav_path)  # the audio's real length, as ffprobe reads it
            with wave.open(str(wav_path), "rb") as w:
                if (w.getnchannels(), w.getsampwidth()) != (1, 2):
                    fail(f"{wav_path}: expected 16-bit mono from espeak-ng")
                rate = rate or w.getframerate()
                if w.getframerate() != rate or rate % FPS:
                    fail(f"{wav_path}: unexpected sample rate {w.getframerate()}")
                speech = w.readframes(w.getnframes())
            samples = round(seconds * rate)
            if abs(samples - len(speech) // 2) > 1:
                fail(f"{wav_path}: ffprobe says {seconds} s but the file holds {len(speech)} bytes")
            lead = FIRST_LEAD_SECONDS if count == 1 else LEAD_SECONDS
            tail = LAST_TAIL_SECONDS if count == total_lines else TAIL_SECONDS
            start = len(pcm) // 2
            pcm += bytes(2 * round(lead * rate)) + speech[: 2 * samples]
            end = len(pcm) // 2 + round(tail * rate)
            if i == len(slide_lines) - 1:  # a slide ends on a frame boundary
                per_frame = rate // FPS
                end = slide_start + math.ceil((end - slide_start) / per_frame) * per_frame
            pcm += bytes(2 * (end - len(pcm) // 2))
            cues.append(Cue(start / rate, end / rate, shown(line)))
        slide_frames.append((len(pcm) // 2 - slide_start) // (rate // FPS))
    with wave.open(str(out_wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(normalised(bytes(pcm)))
    return cues, slide_frames


def normalised(pcm: bytes) -> bytes:
    """Scale 16-bit mono PCM so that its loudest sample peaks at PEAK_DBFS (integer maths)."""
    samples = array.array("h", pcm)
    if sys.byteorder != "little":
        samples.byteswap()
    peak = max((abs(x) for x in samples), default=0)
    if peak == 0:
        return pcm
    target = round(32767 * 10 ** (PEAK_DBFS / 20))
    scaled = array.array("h", (x * target // peak for x in samples))
    if sys.byteorder != "little":
        scaled.byteswap()
    return scaled.tobytes()


def timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def webvtt(cues: list[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for n, cue in enumerate(cues, 1):
        blocks.append(f"{n}\n{timestamp(cue.start)} --> {timestamp(cue.end)}\n{cue.text}\n")
    return "\n".join(blocks)


# --- video ---------------------------------------------------------------------------------------


def encode(slides: list[Path], frames: list[int], audio: Path, dest: Path) -> None:
    args = [tool("ffmpeg", "ffmpeg"), "-nostdin", "-y", "-v", "error"]
    chains = []
    for i, (image, count) in enumerate(zip(slides, frames, strict=True)):
        args += ["-i", "file:" + str(image)]
        # One decoded image, repeated `count` times, stamped 0, 1, 2… in 1/FPS units.
        chains.append(f"[{i}:v]loop=loop={count - 1}:size=1:start=0,settb=1/{FPS},setpts=N[s{i}]")
    args += ["-i", "file:" + str(audio)]
    inputs = "".join(f"[s{i}]" for i in range(len(slides)))
    chains.append(f"{inputs}concat=n={len(slides)}:v=1:a=0,format=yuv420p[v]")
    args += [
        "-filter_complex", ";".join(chains), "-map", "[v]", "-map", f"{len(slides)}:a",
        "-r", str(FPS), "-c:v", "libx264", "-profile:v", "main", "-level:v", "3.0",
        "-preset", "veryslow", "-tune", "stillimage", "-crf", str(CRF),
        "-g", str(FPS * KEYFRAME_SECONDS), "-threads", "1",
        "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", "file:" + str(dest),
    ]  # fmt: skip
    run(args)


# --- manifest ----------------------------------------------------------------------------------


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def toml_text(prefix: str, value: dict[str, str]) -> list[str]:
    return [f"{prefix}.{locale} = {toml_str(value[locale])}" for locale in ("zh_CN", "en")]


def manifest(course: dict[str, Any], lessons: list[dict[str, Any]], hours: float) -> str:
    out = [
        "# Generated by courses/tools/make_first_lesson.py from first_lesson_script.toml:",
        "# edit the script and re-run the tool; hand edits here are overwritten.",
        "# Format: courses/README.md.",
        f"id = {toml_str(course['id'])}",
        f"version = {int(course['version'])}",
        *toml_text("title", course["title"]),
        *toml_text("description", course["description"]),
        f"# {sum(x['duration_seconds'] for x in lessons):.1f} s of footage at "
        f"{course['class_hour_minutes']} minutes per class hour, rounded down",
        f"hours = {hours}",
        "certificate_types = [",
        *(
            f"  {{ code = {toml_str(c['code'])}, purpose = {toml_str(c['purpose'])} }},"
            for c in course["certificate_types"]
        ),
        "]",
    ]
    for lesson in lessons:
        out += [
            "",
            "[[lessons]]",
            f"id = {toml_str(lesson['id'])}",
            *toml_text("title", lesson["title"]),
            f"video = {toml_str(lesson['video'])}",
            f'subtitles = [{{ lang = "zh-CN", path = {toml_str(lesson["subtitles"])} }}]',
            f"poster = {toml_str(lesson['poster'])}",
            f"duration_seconds = {lesson['duration_seconds']}",
            "completion_threshold = 0.95",
            "seek_locked = true",
        ]
        if isinstance(lesson.get("premiere_at"), datetime):
            out.append(f"premiere_at = {lesson['premiere_at'].isoformat()}")
    return "\n".join(out) + "\n"


# --- main --------------------------------------------------------------------------------------


def build_lesson(
    n: int, lesson: dict[str, Any], course: dict[str, Any], fonts: Fonts, work: Path, media: Path
) -> dict[str, Any]:
    stem = f"{n:02d}-{lesson['id']}"
    label = f"{course['title']['zh_CN']} · 第{NUMERALS[n - 1]}讲"
    slides = lesson["slides"]
    images: list[Path] = []
    for s, slide in enumerate(slides):
        kind = slide.get("kind", "content")
        if kind == "title":
            image = title_card(fonts, course, lesson, n)
        else:
            image = content_slide(
                fonts, slide, label, f"{s + 1} / {len(slides)}", summary=kind == "summary"
            )
        path = work / f"{stem}-slide-{s:02d}.png"
        image.save(path)
        images.append(path)
        if s == 0:
            poster = work / f"{stem}.jpg"
            image.save(poster, quality=85, optimize=True)
    audio = work / f"{stem}.wav"
    cues, frames = narrate([slide["narration"] for slide in slides], work / "", audio)
    video = work / f"{stem}.mp4"
    encode(images, frames, audio, video)
    vtt = work / f"{stem}.zh-CN.vtt"
    vtt.write_text(webvtt(cues), encoding="utf-8")
    for made in (video, vtt, poster):
        os.replace(made, media / made.name)
    seconds = duration_of(media / video.name)
    print(f"{stem}: {seconds:.2f} s, {len(cues)} cues, {(media / video.name).stat().st_size} B")
    return {
        "id": lesson["id"],
        "title": lesson["title"],
        "video": f"{MEDIA_DIR}/{video.name}",
        "subtitles": f"{MEDIA_DIR}/{vtt.name}",
        "poster": f"{MEDIA_DIR}/{poster.name}",
        "duration_seconds": round(seconds, 3),
        "premiere_at": lesson.get("premiere_at"),
    }


def print_phonemes(script: dict[str, Any]) -> None:
    espeak = tool("espeak-ng", "espeak-ng")
    for lesson in script["lessons"]:
        for slide in lesson["slides"]:
            for line in slide["narration"]:
                out = run([espeak, "-v", VOICE, "-q", "-x", spoken(line)])
                print(shown(line), "\n   ", out.stdout.decode().strip().replace("\n", " "))


def check(course_dir: Path) -> None:
    """Load the result the way the platform will, and insist every video is phone friendly."""
    sys.path.insert(0, str(REPO))
    from trainer.courses.manifest import load_manifest
    from trainer.courses.media import phone_problems, probe

    course = load_manifest(course_dir / "course.toml")
    for lesson in course.lessons:
        problems = phone_problems(probe(course.resolve(lesson.video)))
        if problems:
            fail(f"{lesson.video}: {'; '.join(problems)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--phonemes",
        action="store_true",
        help="print how espeak-ng reads each narration line, make nothing",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=COURSE_DIR,
        help=f"course folder to write (default {COURSE_DIR.relative_to(REPO)})",
    )
    args = parser.parse_args(argv)
    with SCRIPT.open("rb") as f:
        script = tomllib.load(f)
    if args.phonemes:
        print_phonemes(script)
        return 0
    course = script["course"]
    fonts = find_fonts()
    media = args.out / MEDIA_DIR
    media.mkdir(parents=True, exist_ok=True)
    made: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="first-lesson-") as tmp:
        for n, lesson in enumerate(script["lessons"], 1):
            made.append(build_lesson(n, lesson, course, fonts, Path(tmp), media))
    expected = {Path(x[key]).name for x in made for key in ("video", "subtitles", "poster")}
    for stale in sorted(media.iterdir()):
        if stale.name not in expected:
            print(f"removing {stale.name} (no longer in the script)")
            stale.unlink()
    seconds = sum(x["duration_seconds"] for x in made)
    hours = math.floor(seconds / 60 / course["class_hour_minutes"] * 100) / 100
    (args.out / "course.toml").write_text(manifest(course, made, hours), encoding="utf-8")
    check(args.out)
    print(f"{args.out}: {len(made)} lessons, {seconds:.1f} s, {hours} class hours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
