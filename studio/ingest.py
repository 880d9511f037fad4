"""Essay files (Markdown, newsletter HTML, plain text) → Essay.

Each format is parsed into one flat stream of items, blocks and headings, and a shared step turns
that stream into the title and chapters. So the rules for titles, chapters and what counts as
speakable are written once, whatever the input looked like.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeAlias
from urllib.parse import urljoin, urlsplit

import nh3
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from selectolax.lexbor import LexborHTMLParser, LexborNode

from studio.errors import StudioError
from studio.text import carriable
from studio.types import Block, Chapter, Essay, EssayMeta

MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
TEXT_SUFFIXES = (".txt", ".text")


@dataclasses.dataclass(frozen=True)
class _Heading:
    level: int
    text: str


_Item: TypeAlias = Block | _Heading
_Parser: TypeAlias = Callable[..., Essay]


# --- public API -------------------------------------------------------------------------------


# An essay of ten hours is about 0.5 MB of Markdown; the bound leaves room for HTML exports and
# refuses, in a second, what would otherwise take many minutes to parse and normalize.
MAX_ESSAY_BYTES = 8 * 10**6


def load_essay(path: Path, *, chapter_level: int = 2) -> Essay:
    """Read an essay file and parse it by its extension (.md, .html or .txt)."""
    path = Path(path)
    parse = _parser_for(path)
    text = _read_essay_text(path)
    return parse(text, slug_hint=path.stem, chapter_level=chapter_level, name=str(path))


def slugify(text: str) -> str:
    """Lowercase ASCII letters, digits and single hyphens: "Café au lait!" → "cafe-au-lait"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# --- reading files ------------------------------------------------------------------------------


def _parser_for(path: Path) -> _Parser:
    if not path.exists():
        raise StudioError(f"essay not found: {path}; check the path")
    if path.is_dir():
        raise StudioError(f"{path} is a folder, not an essay; pass a .md, .html or .txt file")
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return parse_markdown
    if suffix in HTML_SUFFIXES:
        return parse_html
    if suffix in TEXT_SUFFIXES:
        return parse_text
    shown = f"'{path.suffix}'" if path.suffix else "(no extension)"
    raise StudioError(f"unknown essay type {shown}: use .md, .html or .txt ({path})")


def _read_essay_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_ESSAY_BYTES:
            raise StudioError(
                f"{path} is {size / 1e6:.0f} MB; studio reads essays up to "
                f"{MAX_ESSAY_BYTES // 10**6} MB (a ten-hour essay is about 0.5 MB): split it"
            )
        data = path.read_bytes()
    except OSError as err:
        raise StudioError(f"cannot read {path} ({err.strerror}); check its permissions") from None
    # UTF-16 files are full of NUL bytes, so name the real problem before calling them binary.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StudioError(f"{path} is UTF-16 text, not UTF-8; save it as UTF-8")
    if b"\x00" in data:
        raise StudioError(
            f"{path} looks binary (it contains NUL bytes); pass a text essay (.md, .html or .txt)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StudioError(
            f"{path} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save it as UTF-8"
        ) from None
    if not text.strip():
        raise StudioError(f"{path} is empty; write the essay in it or pass another file")
    return text


# --- Markdown -----------------------------------------------------------------------------------

# Typographer stays off: quotes and dashes are kept as written, a later stage normalizes them.
_MARKDOWN = MarkdownIt("commonmark").enable("table").use(footnote_plugin).use(front_matter_plugin)

_FRONT_MATTER_KEY = re.compile(r"[A-Za-z_][\w-]*\s*:(\s|$)")


def parse_markdown(text: str, *, slug_hint: str, chapter_level: int = 2, name: str = "") -> Essay:
    """Markdown with optional YAML front matter → Essay.

    `slug_hint` is the slug when the essay declares none; `name` is what errors call it.
    """
    name = name or f"essay '{slug_hint}'"
    text = carriable(text)  # before YAML, which refuses control characters
    _check_chapter_level(chapter_level)
    text = text.removeprefix("\ufeff")
    env: dict[str, Any] = {}
    tokens = _MARKDOWN.parse(text, env)
    tree = SyntaxTreeNode(tokens)
    front_nodes = [node for node in tree.children if node.type == "front_matter"]
    if front_nodes:
        declared = _meta_from_front_matter(front_nodes[0].content, name)
    elif _starts_with_unclosed_front_matter(text):
        raise StudioError(f"{name} has front matter with no closing '---' line; add one after it")
    else:
        declared = EssayMeta(title="", slug="")
    items = list(_markdown_items(tree, nested=False))
    essay = _build_essay(items, declared, slug_hint, chapter_level, name)
    return dataclasses.replace(essay, notes=_markdown_notes(tokens, env, essay.meta.title))


def _markdown_notes(tokens: list[Token], env: dict[str, Any], title: str) -> str:
    """The essay rendered as show notes: Markdown's own HTML without the title heading."""
    kept = list(tokens)
    for index, token in enumerate(kept):
        if token.type == "heading_open" and token.tag == "h1" and token.level == 0:
            if _speakable(kept[index + 1].content).casefold() == _speakable(title).casefold():
                del kept[index : index + 3]  # open, inline, close
            break
    return _sanitized_notes(_MARKDOWN.renderer.render(kept, _MARKDOWN.options, env))


def _starts_with_unclosed_front_matter(text: str) -> bool:
    # Without its closing line, front matter parses as a rule and a paragraph of "key: value"
    # that would be read aloud; a clear error is kinder.
    lines = text.splitlines()
    return len(lines) > 1 and lines[0].strip() == "---" and bool(_FRONT_MATTER_KEY.match(lines[1]))


class _FrontMatterLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text for `_front_matter_date` to check.

    PyYAML builds dates itself and raises a bare ValueError on an impossible one (2025-04-31).
    """

    yaml_implicit_resolvers: ClassVar = {
        first: [(tag, pattern) for tag, pattern in resolvers if not tag.endswith(":timestamp")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _meta_from_front_matter(source: str, name: str) -> EssayMeta:
    try:
        fields = yaml.load(source, Loader=_FrontMatterLoader)
    except yaml.YAMLError as err:
        raise StudioError(
            f"{name} has bad YAML front matter ({_describe_yaml_error(err)}); "
            "fix the lines between the '---' markers"
        ) from None
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise StudioError(
            f"{name} has front matter that is not 'key: value' lines; write e.g. 'title: My essay'"
        )
    fields = {str(key).lower(): value for key, value in fields.items()}
    return EssayMeta(
        title=_front_matter_text(fields.get("title")),
        slug=_front_matter_text(fields.get("slug")),
        date=_front_matter_date(fields.get("date"), name),
        description=_front_matter_text(fields.get("description")),
        author=_front_matter_text(fields.get("author")),
        image=_front_matter_text(fields.get("image")),
        front_matter=fields,
    )


def _describe_yaml_error(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or "cannot parse"
    mark = getattr(err, "problem_mark", None)
    # +2: marks count from 0, and the opening '---' is line 1 of the file.
    return f"line {mark.line + 2}: {problem}" if mark is not None else str(problem)


def _front_matter_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(part).strip() for part in value)
    return str(value).strip()


def _front_matter_date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    parsed = _iso_date(str(value))  # text: the loader does not build dates
    if parsed is None:
        raise StudioError(
            f"{name} has front matter date {value!r} that is not a date; use YYYY-MM-DD"
        )
    return parsed


def _iso_date(text: str) -> dt.date | None:
    """The date of "2024-05-01" or "2024-05-01T08:00:00+00:00"; None if it is neither."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[T ].*)?", text.strip())
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _markdown_items(node: SyntaxTreeNode, *, nested: bool) -> Iterator[_Item]:
    for child in node.children:
        yield from _markdown_node_items(child, nested=nested)


def _markdown_node_items(node: SyntaxTreeNode, *, nested: bool) -> Iterator[_Item]:
    kind = node.type
    if kind in ("front_matter", "footnote_block", "hr"):
        return
    if kind == "paragraph":
        yield from _paragraph(_markdown_inline_text(node))
    elif kind == "heading":
        yield from _heading(int(node.tag[1:]), _markdown_inline_text(node), nested=nested)
    elif kind == "blockquote":
        yield from _as_quotes(_markdown_items(node, nested=True))
    elif kind == "bullet_list":
        for item in node.children:
            yield from _as_list_item(_markdown_items(item, nested=True), number=None)
    elif kind == "ordered_list":
        start = _as_int(node.attrs.get("start"), default=1)
        for offset, item in enumerate(node.children):
            yield from _as_list_item(_markdown_items(item, nested=True), number=start + offset)
    elif kind == "fence":
        words = node.info.split()
        yield Block("code", "", language=words[0] if words else "")
    elif kind == "code_block":
        yield Block("code", "")
    elif kind == "table":
        yield from _table_rows(
            [_markdown_inline_text(cell) for cell in row.children]
            for section in node.children
            for row in section.children
        )
    elif kind == "html_block":
        yield from _html_fragment_items(node.content, nested=nested)
    else:
        yield from _markdown_items(node, nested=nested)


def _markdown_inline_text(node: SyntaxTreeNode) -> str:
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "html_inline":
            # Tags are dropped, their text (a separate token) stays; a <br> still separates words.
            parts.append(" " if child.content.lower().startswith("<br") else "")
        elif kind in ("image", "footnote_ref"):
            continue
        else:
            parts.append(_markdown_inline_text(child))
    return "".join(parts)


# --- HTML ---------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_BLOCK_SELECTOR = ", ".join(sorted(_BLOCK_TAGS))
_HEADING_TAGS = frozenset(f"h{level}" for level in range(1, 7))
_SKIPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "noscript",
        "svg",
        "iframe",
        "button",
        "template",
        "head",
        "title",
        "input",
        "select",
        "textarea",
        "object",
        "embed",
        "video",
        "audio",
        "canvas",
        "img",
        "picture",
        "map",
    }
)
_SKIPPED_ROLES = frozenset(
    {"navigation", "doc-noteref", "doc-endnotes", "doc-footnote", "doc-backlink"}
)
# Newsletter platforms wrap subscribe boxes and share links in plain divs and paragraphs (only
# the input itself sits in a <form>), so their class names are the only way to tell them apart.
_BOILERPLATE_CLASS_WORDS = frozenset({"subscribe", "subscription", "share", "button"})


def parse_html(text: str, *, slug_hint: str, chapter_level: int = 2, name: str = "") -> Essay:
    """A web page or newsletter export → Essay, ignoring page chrome, forms and footnotes.

    `slug_hint` is the slug when the essay declares none; `name` is what errors call it.
    """
    name = name or f"essay '{slug_hint}'"
    text = carriable(text)
    _check_chapter_level(chapter_level)
    document = _html_document(text, name)
    meta = _html_meta_tags(document)
    declared = EssayMeta(
        title=meta.get("og:title", ""),
        slug="",
        date=_iso_date(meta.get("article:published_time", "")),
        description=meta.get("description") or meta.get("og:description", ""),
        author=meta.get("author", ""),
        image=meta.get("og:image", ""),
    )
    root = _content_root(document)
    items = list(_html_items(root, nested=False))
    essay = _build_essay(
        items, declared, slug_hint, chapter_level, name, fallback_title=_html_page_title(document)
    )
    base = meta.get("og:url") or _canonical_url(document)
    return dataclasses.replace(essay, notes=_html_notes(root, essay.meta.title, base))


def _canonical_url(document: LexborHTMLParser) -> str:
    link = document.css_first('link[rel="canonical"]')
    return (link.attributes.get("href") or "").strip() if link is not None else ""


def _html_notes(root: LexborNode, title: str, base: str) -> str:
    """The post's own markup as show notes: what is read aloud, with its links, and no chrome.

    Changes the document: call it last.
    """
    unwanted: list[LexborNode] = []
    stack = [root]
    while stack:  # the top-most skipped nodes only: a removed node takes its children with it
        node = stack.pop()
        for child in node.iter():
            (unwanted if _is_skipped(child) else stack).append(child)
    heading = next((h for h in root.css("h1") if not _inside_skipped(h, root)), None)
    spoken_title = _speakable(title).casefold()
    if heading is not None and _speakable(_html_inline_text(heading)).casefold() == spoken_title:
        unwanted.append(heading)  # the title: the page has its own
    for node in unwanted:
        node.decompose()
    return _sanitized_notes(root.html or "", base=base)


def _inside_skipped(node: LexborNode, root: LexborNode) -> bool:
    parent = node.parent
    while parent is not None and parent != root:
        if _is_skipped(parent):
            return True
        parent = parent.parent
    return False


def _html_fragment_items(html: str, *, nested: bool) -> Iterator[_Item]:
    body = _html_document(html, "an HTML block in the essay").body
    if body is not None:
        yield from _html_items(body, nested=nested)


# Real posts nest 20-30 elements deep. The bound protects both the HTML parser, whose tree
# building slows quadratically with depth, and the walk below, which recurses once per level.
MAX_HTML_DEPTH = 150
# Tags whose end tag HTML lets a page leave out: an unclosed <p> or <li> is not nesting.
_OPTIONAL_END_TAGS = frozenset(
    {"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot"}
)
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>")


def _html_document(html: str, name: str) -> LexborHTMLParser:
    """Parse a page after checking, without recursion, that it nests no deeper than we walk."""
    depth = 0
    for closing, tag, self_closing in _TAG.findall(html):
        tag = tag.lower()
        if tag in _VOID_TAGS or tag in _OPTIONAL_END_TAGS or self_closing:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        if depth > MAX_HTML_DEPTH:
            break
    document = LexborHTMLParser(html) if depth <= MAX_HTML_DEPTH else None
    if document is None or _tree_depth(document.root) > MAX_HTML_DEPTH:
        raise StudioError(
            f"{name} nests HTML elements more than {MAX_HTML_DEPTH} deep, which no post does; "
            "export the post again, or save its text as Markdown"
        )
    return document


def _tree_depth(root: LexborNode | None) -> int:
    deepest, stack = 0, [(root, 1)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_HTML_DEPTH:
            stack.extend((child, depth + 1) for child in node.iter())
    return deepest


def _html_meta_tags(document: LexborHTMLParser) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in document.css("meta"):
        key = (tag.attributes.get("property") or tag.attributes.get("name") or "").lower()
        content = carriable(tag.attributes.get("content") or "").strip()  # entities decoded
        if key and content:
            found.setdefault(key, content)
    return found


def _html_page_title(document: LexborHTMLParser) -> str:
    """The first <h1> anywhere (often in a skipped page header), else <title>."""
    h1 = document.css_first("h1")
    if h1 is not None and (text := _speakable(_html_inline_text(h1))):
        return text
    title = document.css_first("title")
    return _speakable(title.text()) if title is not None else ""


def _content_root(document: LexborHTMLParser) -> LexborNode:
    # A page holds the post plus comments, recommendations and chrome; the post is the biggest
    # <article> (or <main>). Exports without either are the post alone.
    for tag in ("article", "main"):
        candidates = document.css(tag)
        if candidates:
            return max(candidates, key=lambda node: len(node.text(strip=True)))
    return document.body or document.root


def _html_items(container: LexborNode, *, nested: bool) -> Iterator[_Item]:
    # Text can sit directly in a div next to block children; each run of it is a paragraph.
    inline_run: list[str] = []
    for child in container.iter(include_text=True):
        if child.is_element_node and _is_block(child):
            yield from _paragraph("".join(inline_run))
            inline_run.clear()
            yield from _html_block_items(child, nested=nested)
        else:
            inline_run.append(_html_inline_text(child))
    yield from _paragraph("".join(inline_run))


def _is_block(node: LexborNode) -> bool:
    # An inline element wrapping blocks (Substack wraps whole image cards in <a>) is a container.
    return node.tag in _BLOCK_TAGS or node.css_first(_BLOCK_SELECTOR) is not None


def _html_block_items(node: LexborNode, *, nested: bool) -> Iterator[_Item]:
    if _is_skipped(node):
        return
    tag = node.tag
    if tag in _HEADING_TAGS:
        yield from _heading(int(tag[1]), _html_inline_text(node), nested=nested)
    elif tag == "blockquote":
        yield from _as_quotes(_html_items(node, nested=True))
    elif tag in ("ul", "ol", "menu"):
        yield from _html_list_items(node, ordered=tag == "ol")
    elif tag == "pre":
        yield Block("code", "", language=_html_code_language(node))
    elif tag == "table":
        if (caption := node.css_first("caption")) is not None:
            yield from _paragraph(_html_inline_text(caption))
        yield from _table_rows(
            [_html_inline_text(cell) for cell in row.iter() if cell.tag in ("td", "th")]
            for row in node.css("tr")
        )
    elif tag != "hr":
        yield from _html_items(node, nested=nested)


def _html_list_items(node: LexborNode, *, ordered: bool) -> Iterator[_Item]:
    number = _as_int(node.attributes.get("start"), default=1)
    for child in node.iter():
        if not child.is_element_node or _is_skipped(child):
            continue
        if child.tag != "li":
            yield from _html_block_items(child, nested=True)
            continue
        number = _as_int(child.attributes.get("value"), default=number)
        items = _html_items(child, nested=True)
        yield from _as_list_item(items, number=number if ordered else None)
        number += 1


def _html_code_language(pre: LexborNode) -> str:
    for node in (pre, pre.css_first("code")):
        if node is None:
            continue
        for attribute in ("data-language", "data-lang"):
            if language := (node.attributes.get(attribute) or "").strip():
                return language
        for css_class in (node.attributes.get("class") or "").split():
            for prefix in ("language-", "lang-"):
                if css_class.startswith(prefix):
                    return css_class.removeprefix(prefix)
    return ""


def _html_inline_text(node: LexborNode) -> str:
    if node.is_text_node:
        return node.text(deep=False)
    if not node.is_element_node or _is_skipped(node):
        return ""
    if node.tag == "br":
        return " "
    text = "".join(_html_inline_text(child) for child in node.iter(include_text=True))
    return f" {text} " if node.tag in _BLOCK_TAGS else text


def _is_skipped(node: LexborNode) -> bool:
    """Page chrome, widgets, hidden elements, footnote markers and footnote sections."""
    if node.tag in _SKIPPED_TAGS:
        return True
    attributes = node.attributes
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    if (attributes.get("role") or "") in _SKIPPED_ROLES:
        return True
    if (attributes.get("id") or "").lower().startswith(("fn", "footnote")):
        return True
    classes = (attributes.get("class") or "").lower().split()
    if any(css_class.startswith("footnote") for css_class in classes):
        return True
    class_words = {word for css_class in classes for word in re.split(r"[-_]", css_class)}
    if class_words & _BOILERPLATE_CLASS_WORDS:
        return True
    # A superscript that links within the page is a footnote marker, whatever its markup.
    return node.tag == "sup" and node.css_first('a[href^="#"]') is not None


# --- plain text ---------------------------------------------------------------------------------

_MAX_TEXT_TITLE_LENGTH = 80


def parse_text(text: str, *, slug_hint: str, chapter_level: int = 2, name: str = "") -> Essay:
    """Plain text → Essay of one chapter; blank lines separate paragraphs.

    `slug_hint` is the slug when the essay declares none; `name` is what errors call it.
    """
    name = name or f"essay '{slug_hint}'"
    text = carriable(text)
    _check_chapter_level(chapter_level)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [part.strip() for part in re.split(r"\n[ \t]*\n", text) if part.strip()]
    title = ""
    if len(paragraphs) > 1 and _looks_like_title(paragraphs[0]):
        title = _speakable(paragraphs.pop(0))
    items = [block for paragraph in paragraphs for block in _paragraph(paragraph)]
    declared = EssayMeta(title=title, slug="")
    essay = _build_essay(items, declared, slug_hint, chapter_level, name)
    notes = "".join(f"<p>{_linked(' '.join(p.split()))}</p>" for p in paragraphs)
    return dataclasses.replace(essay, notes=_sanitized_notes(notes))


def _linked(text: str) -> str:
    """Plain text as HTML, its bare URLs made links."""
    parts, start = [], 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(_TRAILING_PUNCTUATION)
        href = url if "://" in url else f"https://{url}"
        parts.append(html.escape(text[start : match.start()]))
        parts.append(f'<a href="{html.escape(href)}">{html.escape(url)}</a>')
        start = match.start() + len(url)
    parts.append(html.escape(text[start:]))
    return "".join(parts)


def _looks_like_title(paragraph: str) -> bool:
    return (
        "\n" not in paragraph
        and len(paragraph) <= _MAX_TEXT_TITLE_LENGTH
        and not paragraph.endswith((".", ",", ";", ":"))
    )


# --- shared: items → Essay ----------------------------------------------------------------------

# Stops at whitespace, angle brackets and quotes (straight, curly or guillemets).
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"\u201c\u201d\u2018\u2019\u00ab\u00bb]+", re.I)
_TRAILING_PUNCTUATION = ".,;:!?'\")]}"


def _speakable(text: str) -> str:
    """Collapse whitespace and reduce bare URLs to their domain; all other characters stay.

    Text is made carriable as it enters; HTML's character references (&#1;) are decoded only now.
    """
    return _URL.sub(_url_to_domain, " ".join(carriable(text).split()))


def _url_to_domain(match: re.Match[str]) -> str:
    url, tail = match.group(), ""
    # Punctuation after a URL belongs to the sentence, unless it closes a bracket the URL opened.
    while url and url[-1] in _TRAILING_PUNCTUATION:
        last = url[-1]
        opener = {")": "(", "]": "[", "}": "{"}.get(last)
        if opener is not None and url.count(opener) >= url.count(last):
            break
        url, tail = url[:-1], last + tail
    try:
        host = urlsplit(url if "://" in url else f"http://{url}").hostname
    except ValueError:
        host = None
    if not host:
        return match.group()
    return host.removeprefix("www.") + tail


def _paragraph(text: str) -> Iterator[Block]:
    if speakable := _speakable(text):
        yield Block("paragraph", speakable)


def _heading(level: int, text: str, *, nested: bool) -> Iterator[_Item]:
    # A heading inside a quote or list is part of it, not a chapter boundary.
    if nested:
        yield from _paragraph(text)
    elif speakable := _speakable(text):
        yield _Heading(level, speakable)


def _table_rows(rows: Iterable[list[str]]) -> Iterator[Block]:
    for cells in rows:
        yield from _paragraph(", ".join(filter(None, map(_speakable, cells))))


def _as_quotes(items: Iterable[_Item]) -> Iterator[_Item]:
    for item in items:
        if isinstance(item, Block) and item.kind == "paragraph":
            yield dataclasses.replace(item, kind="quote")
        else:
            yield item


def _as_list_item(items: Iterable[_Item], *, number: int | None) -> Iterator[_Item]:
    """The item's first paragraph carries its number; later paragraphs and nested lists follow."""
    for index, item in enumerate(items):
        if index == 0 and isinstance(item, Block) and item.kind == "paragraph":
            yield Block("list_item", item.text, number=number)
        else:
            yield item


def _build_essay(
    items: list[_Item],
    declared: EssayMeta,
    slug_hint: str,
    chapter_level: int,
    name: str,
    *,
    fallback_title: str = "",
) -> Essay:
    title, items = _take_title(items, declared.title, fallback_title)
    slug = slugify(declared.slug) or slugify(slug_hint) or slugify(title) or "essay"
    meta = dataclasses.replace(declared, title=title or _words_from_slug(slug), slug=slug)
    chapters = _chapters(items, chapter_level)
    if not any(block.kind != "code" for chapter in chapters for block in chapter.blocks):
        raise StudioError(
            f"{name} has nothing to read: no paragraphs, quotes or list items "
            "(only images, code or markup); add some prose"
        )
    return Essay(meta=meta, chapters=chapters)


def _take_title(items: list[_Item], declared: str, fallback: str) -> tuple[str, list[_Item]]:
    """The title, and the items without the first H1 when that H1 is the title."""
    first_h1 = next(
        (i for i, item in enumerate(items) if isinstance(item, _Heading) and item.level == 1),
        None,
    )
    if first_h1 is None:
        return declared or fallback, items
    h1_text = items[first_h1].text
    without_h1 = items[:first_h1] + items[first_h1 + 1 :]
    if not declared:
        return h1_text, without_h1
    # Many writers repeat the front-matter title as an H1; reading it twice would be odd.
    if h1_text.casefold() == _speakable(declared).casefold():
        return declared, without_h1
    return declared, items


def _words_from_slug(slug: str) -> str:
    words = slug.replace("-", " ")
    return words[:1].upper() + words[1:]


def _chapters(items: Iterable[_Item], chapter_level: int) -> tuple[Chapter, ...]:
    """Split at headings of `chapter_level` or shallower; deeper headings are read as sentences.

    Chapters left without blocks (the opening one before the first heading, or a part heading
    followed at once by a chapter heading) are dropped: they would be silent chapter marks.
    """
    titled_blocks: list[tuple[str, list[Block]]] = [("", [])]
    for item in items:
        if isinstance(item, _Heading) and item.level <= chapter_level:
            titled_blocks.append((item.text, []))
        elif isinstance(item, _Heading):
            titled_blocks[-1][1].append(Block("paragraph", item.text))
        else:
            titled_blocks[-1][1].append(item)
    return tuple(Chapter(title, tuple(blocks)) for title, blocks in titled_blocks if blocks)


# What show notes may hold: text markup, links, lists, tables and footnotes. Images are left out
# (the site publishes no copies of them, and a page must not load anything from the network).
_NOTE_TAGS = frozenset(
    {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
     "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
     "samp", "section", "small", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
     "thead", "tr", "u", "ul"}
)  # fmt: skip
# ids are kept where footnotes put them, so "[1]" and its "↩" still jump to each other.
_NOTE_ATTRIBUTES = {"a": {"href", "title", "id"}, "li": {"id"}, "ol": {"start"}, "abbr": {"title"}}


def _sanitized_notes(markup: str, *, base: str = "") -> str:
    """`markup` made safe to publish in a page: an allow-list sanitizer (nh3, a binding of the
    well-kept ammonia) rather than rules of our own. Relative links resolve against `base`."""

    def resolve(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href" and base and not value.startswith("#"):
            return urljoin(base, value)
        return value

    cleaned = nh3.clean(
        markup,
        tags=set(_NOTE_TAGS),
        attributes=_NOTE_ATTRIBUTES,
        attribute_filter=resolve,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )
    return _EMPTY_PARAGRAPH.sub("", cleaned).strip()  # an image's paragraph, say


_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")


def _check_chapter_level(chapter_level: int) -> None:
    if not 1 <= chapter_level <= 6:
        raise StudioError(
            f"chapter level must be a heading level from 1 to 6, not {chapter_level}; "
            "use 2 to start chapters at H2 headings"
        )


def _as_int(value: Any, *, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
