"""HTML to plain text, for question text imported from Moodle.

Deliberately simple: tags are dropped, block tags and ``<br>`` become line breaks, entities are
decoded, ``<script>``/``<style>`` content is dropped, and ``<img>`` tags are collected (their
source and alt text) so that the importer can attach the embedded files. The result is plain
text, so nothing from the source HTML ever reaches a page unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from trainer.questions.text import clean_text

_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt"),
        *("figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header"),
        *("hr", "li", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead"),
        *("tr", "ul"),
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


@dataclass(frozen=True)
class ImageRef:
    src: str
    alt: str


@dataclass
class HtmlText:
    text: str
    images: list[ImageRef] = field(default_factory=list)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[ImageRef] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")
        elif tag == "img":
            values = dict(attrs)
            self.images.append(ImageRef(values.get("src") or "", (values.get("alt") or "").strip()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIPPED_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(_HTML_SPACE.sub(" ", data))


def html_to_text(html: str) -> HtmlText:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return HtmlText(clean_text("".join(collector.parts)), collector.images)
