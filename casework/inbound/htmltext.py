"""The text a person reads in an HTML e-mail, for messages that come without a text/plain part.

Built on the standard library's tokenizer (`html.parser`), which only reads: no script runs, no
image or style sheet is fetched, and entities are decoded by the parser, not by hand. Quoted
history in a `<blockquote>` comes out with "> " before each line, as a text mail program writes
it, so that the reply parser can trim it the same way.
"""

from __future__ import annotations

from html.parser import HTMLParser

# Elements whose content is not text a reader sees.
_HIDDEN = frozenset({"script", "style", "title", "template", "noscript", "head"})
# Elements that start and end a line of their own; the first set also leaves an empty line
# around them (paragraphs), the second does not (Gmail writes one <div> per line).
_PARAGRAPHS = frozenset(
    {"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"}
)
_LINES = frozenset(
    {
        "address",
        "article",
        "aside",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figure",
        "footer",
        "form",
        "header",
        "li",
        "main",
        "nav",
        "section",
        "tr",
    }
)
_CELLS = frozenset({"td", "th"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._words: list[str] = []
        self._quote_depth = 0
        self._hidden_depth = 0
        self._pre_depth = 0

    # A line is written when a block or a <br> ends it, with the quote depth it was written at.
    def _end_line(self, *, br: bool = False, paragraph: bool = False) -> None:
        text = "".join(self._words)
        self._words = []
        if self._pre_depth == 0:
            text = " ".join(text.split())
        if text or br:
            prefix = "> " * self._quote_depth
            self.lines.extend(f"{prefix}{line}".rstrip() for line in text.split("\n"))
        if paragraph and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "body":
            # A <head> left open (common in generated mail) must not hide the body.
            self._hidden_depth = 0
            return
        if tag in _HIDDEN:
            self._hidden_depth += 1
            return
        if tag == "br":
            self._end_line(br=True)
        elif tag in _PARAGRAPHS or tag in _LINES:
            self._end_line(paragraph=tag in _PARAGRAPHS)
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "li":
                self._words.append("- ")
        elif tag in _CELLS:
            self._words.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        # <br/>, <hr/>: the same as the start tag; a self-closed hidden element hides nothing.
        if tag not in _HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
            return
        if tag in _PARAGRAPHS or tag in _LINES:
            self._end_line(paragraph=tag in _PARAGRAPHS)
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        self._words.append(data)

    def text(self) -> str:
        self._end_line()
        lines: list[str] = []
        for line in self.lines:
            # At most one empty line in a row, none at the start or the end.
            if line == "" and (not lines or lines[-1] == ""):
                continue
            lines.append(line)
        return "\n".join(lines).strip("\n")


def html_to_text(html: str) -> str:
    """The readable text of `html`: paragraphs and line breaks kept, tags and hidden parts gone."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return collector.text()
