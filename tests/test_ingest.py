"""Essay files → Essay: formats, titles, chapters, blocks, inline markup and the errors shown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from textwrap import dedent

import pytest

from studio.errors import StudioError
from studio.ingest import load_essay, parse_html, parse_markdown, parse_text, slugify
from studio.types import Block, Chapter, Essay, EssayMeta

DATA = Path(__file__).parent / "data" / "ingest"


def markdown(text: str, *, slug_hint: str = "essay", chapter_level: int = 2) -> Essay:
    return parse_markdown(dedent(text), slug_hint=slug_hint, chapter_level=chapter_level)


def html(text: str, *, slug_hint: str = "essay", chapter_level: int = 2) -> Essay:
    return parse_html(dedent(text), slug_hint=slug_hint, chapter_level=chapter_level)


def all_blocks(essay: Essay) -> list[Block]:
    return [block for chapter in essay.chapters for block in chapter.blocks]


def texts(essay: Essay) -> list[str]:
    return [block.text for block in all_blocks(essay)]


def paragraph(text: str) -> Block:
    return Block("paragraph", text)


# --- load_essay: dispatch and errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("walk.md", "# Walk\n\nA *short* walk.\n"),
        ("walk.markdown", "# Walk\n\nA *short* walk.\n"),
        ("walk.MD", "# Walk\n\nA *short* walk.\n"),
        ("walk.html", "<h1>Walk</h1><p>A <em>short</em> walk.</p>"),
        ("walk.htm", "<h1>Walk</h1><p>A <em>short</em> walk.</p>"),
        ("walk.txt", "Walk\n\nA short walk.\n"),
        ("walk.text", "Walk\n\nA short walk.\n"),
    ],
)
def test_load_essay_picks_the_parser_from_the_extension(
    tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    essay = load_essay(path)
    assert essay.meta.title == "Walk"
    assert essay.meta.slug == "walk"
    assert essay.chapters == (Chapter("", (paragraph("A short walk."),)),)


def test_load_essay_ignores_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff---\ntitle: Marked\n---\nHello.\n".encode())
    essay = load_essay(path)
    assert essay.meta.title == "Marked"
    assert texts(essay) == ["Hello."]


def test_load_essay_passes_the_chapter_level_on(tmp_path: Path) -> None:
    path = tmp_path / "levels.md"
    path.write_text("## Part\n\n### One\n\nText.\n", encoding="utf-8")
    assert [c.title for c in load_essay(path, chapter_level=3).chapters] == ["One"]
    assert [c.title for c in load_essay(path).chapters] == ["Part"]


def assert_load_fails(path: Path, *fragments: str) -> None:
    with pytest.raises(StudioError) as caught:
        load_essay(path)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file(tmp_path: Path) -> None:
    assert_load_fails(tmp_path / "nowhere.md", "not found", "nowhere.md", "check the path")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "drafts.md"
    folder.mkdir()
    assert_load_fails(folder, "is a folder", "pass a .md, .html or .txt file")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "essay.docx"
    path.write_bytes(b"PK\x03\x04")
    assert_load_fails(path, "unknown essay type '.docx': use .md, .html or .txt")


def test_no_extension(tmp_path: Path) -> None:
    path = tmp_path / "README"
    path.write_text("Hello.", encoding="utf-8")
    assert_load_fails(path, "unknown essay type (no extension): use .md, .html or .txt")


def test_utf16_is_named_as_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xff\xfe\x00a")
    assert_load_fails(path, "UTF-16", "save it as UTF-8")


def test_latin1_bytes_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes(b"caf\xe9 au lait")
    assert_load_fails(path, "not UTF-8", "0xe9 at offset 3", "save it as UTF-8")


def test_binary_with_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_load_fails(path, "looks binary", "NUL")


@pytest.mark.parametrize("content", [b"", b"  \n\t\n  \n"])
def test_empty_essay(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.md"
    path.write_bytes(content)
    assert_load_fails(path, "blank.md is empty")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("images.md", "![a cat](cat.png)\n\n![a dog](dog.png)\n"),
        ("code.md", "```python\nprint('hi')\n```\n"),
        ("front.md", "---\ntitle: Only a title\n---\n"),
        ("headings.md", "# Title\n\n## Empty chapter\n"),
        ("images.html", '<p><img src="cat.png" alt="a cat"></p><script>alert(1)</script>'),
        ("comment.html", "<!-- nothing here -->"),
    ],
)
def test_nothing_to_read(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert_load_fails(path, f"{name} has nothing to read:", "add some prose")


def test_bad_front_matter_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: ok\nauthor: [unclosed\n---\nText.\n", encoding="utf-8")
    assert_load_fails(path, "bad.md has bad YAML front matter", "line", "'---'")


def test_front_matter_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_text("---\n- one\n- two\n---\nText.\n", encoding="utf-8")
    assert_load_fails(path, "not 'key: value' lines")


def test_front_matter_with_a_bad_date(tmp_path: Path) -> None:
    path = tmp_path / "date.md"
    path.write_text("---\ndate: next Tuesday\n---\nText.\n", encoding="utf-8")
    assert_load_fails(path, "'next Tuesday'", "YYYY-MM-DD")


def test_front_matter_without_its_closing_line(tmp_path: Path) -> None:
    path = tmp_path / "open.md"
    path.write_text("---\ntitle: Open\n\nText.\n", encoding="utf-8")
    assert_load_fails(path, "no closing '---' line")


@pytest.mark.parametrize("parse", [parse_markdown, parse_html, parse_text])
@pytest.mark.parametrize("level", [0, 7])
def test_chapter_level_out_of_range(parse, level: int) -> None:
    with pytest.raises(StudioError, match="heading level from 1 to 6"):
        parse("Text.", slug_hint="x", chapter_level=level)


# --- Markdown: front matter, title and slug ---------------------------------------------------


def test_front_matter_fills_the_metadata() -> None:
    essay = markdown(
        """\
        ---
        title: "Walking: a defence"
        date: 2024-05-01
        description: Why I walk.
        slug: In Defence of Walking
        author: [Ada Field, Ben Stone]
        image: cover.jpg
        tags: [walking]
        draft: true
        ---
        Text.
        """
    )
    assert essay.meta == EssayMeta(
        title="Walking: a defence",
        slug="in-defence-of-walking",
        date=dt.date(2024, 5, 1),
        description="Why I walk.",
        author="Ada Field, Ben Stone",
        image="cover.jpg",
    )


@pytest.mark.parametrize(
    "date_line",
    [
        "date: 2024-05-01",
        "date: 2024-05-01 08:30:00",
        "date: 2024-05-01T08:30:00Z",
        "date: '2024-05-01'",
        "date: '2024-05-01T08:30:00+02:00'",
    ],
)
def test_front_matter_dates(date_line: str) -> None:
    essay = markdown(f"---\n{date_line}\n---\nText.\n")
    assert essay.meta.date == dt.date(2024, 5, 1)


def test_empty_front_matter_is_allowed() -> None:
    essay = markdown("---\n---\nText.\n", slug_hint="quiet-day")
    assert essay.meta == EssayMeta(title="Quiet day", slug="quiet-day")
    assert texts(essay) == ["Text."]


def test_first_h1_is_the_title_and_is_not_read() -> None:
    essay = markdown(
        """\
        Before the title.

        # The *Real* Title

        After.

        # Second H1
        """
    )
    assert essay.meta.title == "The Real Title"
    assert essay.chapters == (Chapter("", (paragraph("Before the title."), paragraph("After."))),)


def test_front_matter_title_wins_and_a_repeated_h1_is_dropped() -> None:
    essay = markdown("---\ntitle: On Rain\n---\n# On  rain\n\nIt rained.\n")
    assert essay.meta.title == "On Rain"
    assert essay.chapters == (Chapter("", (paragraph("It rained."),)),)


def test_front_matter_title_with_a_different_h1_makes_it_a_chapter() -> None:
    essay = markdown("---\ntitle: On Rain\n---\n# Morning\n\nIt rained.\n")
    assert essay.chapters == (Chapter("Morning", (paragraph("It rained."),)),)


def test_title_falls_back_to_the_slug_in_words() -> None:
    essay = markdown("Just text.\n", slug_hint="2024-05-01 On Walking")
    assert essay.meta.slug == "2024-05-01-on-walking"
    assert essay.meta.title == "2024 05 01 on walking"


def test_slug_falls_back_to_the_title_then_to_essay() -> None:
    assert markdown("# Café Society\n\nText.\n", slug_hint="日本").meta.slug == "cafe-society"
    assert markdown("Text.\n", slug_hint="日本").meta == EssayMeta(title="Essay", slug="essay")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("On Walking", "on-walking"),
        ("  Hello,   World!  ", "hello-world"),
        ("Café au lait", "cafe-au-lait"),
        ("snake_case and CAPS-2024", "snake-case-and-caps-2024"),
        ("---", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


# --- Markdown: chapters ------------------------------------------------------------------------


def test_chapters_start_at_h2_and_text_before_them_opens() -> None:
    essay = markdown(
        """\
        # Title

        Opening words.

        ## First

        One.

        ### A smaller heading

        Two.

        ## Second

        Three.
        """
    )
    assert essay.chapters == (
        Chapter("", (paragraph("Opening words."),)),
        Chapter("First", (paragraph("One."), paragraph("A smaller heading"), paragraph("Two."))),
        Chapter("Second", (paragraph("Three."),)),
    )


def test_no_opening_chapter_when_the_essay_starts_with_a_chapter() -> None:
    essay = markdown("# Title\n\n![cover](c.png)\n\n## First\n\nOne.\n")
    assert essay.chapters == (Chapter("First", (paragraph("One."),)),)


def test_chapter_level_three_makes_h2_and_h3_chapters() -> None:
    essay = markdown(
        "# T\n\n## Part one\n\nIntro.\n\n### Chapter one\n\nText.\n\n#### Aside\n",
        chapter_level=3,
    )
    assert essay.chapters == (
        Chapter("Part one", (paragraph("Intro."),)),
        Chapter("Chapter one", (paragraph("Text."), paragraph("Aside"))),
    )


def test_chapter_level_one_with_the_first_h1_as_title() -> None:
    essay = markdown("# Title\n\nIntro.\n\n# Part\n\n## Sub\n\nText.\n", chapter_level=1)
    assert essay.meta.title == "Title"
    assert essay.chapters == (
        Chapter("", (paragraph("Intro."),)),
        Chapter("Part", (paragraph("Sub"), paragraph("Text."))),
    )


def test_a_chapter_with_nothing_in_it_is_dropped() -> None:
    essay = markdown("## Part one\n\n## Chapter one\n\nText.\n")
    assert essay.chapters == (Chapter("Chapter one", (paragraph("Text."),)),)


def test_setext_headings_count_too() -> None:
    essay = markdown("Title\n=====\n\nChapter\n-------\n\nText.\n")
    assert essay.meta.title == "Title"
    assert essay.chapters == (Chapter("Chapter", (paragraph("Text."),)),)


# --- Markdown: blocks --------------------------------------------------------------------------


def test_paragraph_soft_breaks_and_extra_spaces_become_single_spaces() -> None:
    essay = markdown("One line\nand the next,   spaced  \nwith a hard break.\n")
    assert texts(essay) == ["One line and the next, spaced with a hard break."]


def test_quotes_keep_one_block_per_paragraph() -> None:
    essay = markdown("> First said.\n>\n> Second said.\n>\n> ## Quoted heading\n\nAfter.\n")
    assert all_blocks(essay) == [
        Block("quote", "First said."),
        Block("quote", "Second said."),
        Block("quote", "Quoted heading"),
        paragraph("After."),
    ]


def test_bullet_lists_have_no_numbers() -> None:
    essay = markdown("- apples\n- *pears*\n")
    assert all_blocks(essay) == [Block("list_item", "apples"), Block("list_item", "pears")]


def test_ordered_lists_count_from_their_start() -> None:
    essay = markdown("3. three\n3. four\n3. five\n")
    assert all_blocks(essay) == [
        Block("list_item", "three", number=3),
        Block("list_item", "four", number=4),
        Block("list_item", "five", number=5),
    ]


def test_nested_lists_and_continuation_paragraphs() -> None:
    essay = markdown(
        """\
        1. First step.

           More about it.

           - a detail
           - another
        2. Second step.
        """
    )
    assert all_blocks(essay) == [
        Block("list_item", "First step.", number=1),
        paragraph("More about it."),
        Block("list_item", "a detail"),
        Block("list_item", "another"),
        Block("list_item", "Second step.", number=2),
    ]


def test_code_blocks_keep_their_language_and_no_text() -> None:
    essay = markdown(
        "Before.\n\n```python title=walk.py\nx = 1\n```\n\n~~~\nplain\n~~~\n\n    indented\n"
    )
    assert all_blocks(essay) == [
        paragraph("Before."),
        Block("code", "", language="python"),
        Block("code", ""),
        Block("code", ""),
    ]


def test_table_rows_are_read_as_paragraphs_of_cells() -> None:
    essay = markdown("| Town | Miles |\n|---|---:|\n| **Ashby** | 12 |\n| Deep | |\n")
    assert texts(essay) == ["Town, Miles", "Ashby, 12", "Deep"]


def test_html_blocks_are_reduced_to_their_text() -> None:
    essay = markdown(
        """\
        Before.

        <div class="note">
        <p>An <b>HTML</b> note.</p>
        <script>alert("never read")</script>
        </div>

        <!-- an editor's comment -->

        After.
        """
    )
    assert texts(essay) == ["Before.", "An HTML note.", "After."]


def test_thematic_breaks_are_silent() -> None:
    assert texts(markdown("One.\n\n---\n\nTwo.\n\n***\n")) == ["One.", "Two."]


# --- Markdown: inline --------------------------------------------------------------------------


def test_emphasis_strong_and_code_spans_keep_their_text() -> None:
    essay = markdown("Some *soft*, **loud**, ***both*** and `code()` words.\n")
    assert texts(essay) == ["Some soft, loud, both and code() words."]


def test_links_keep_their_text_and_drop_the_url() -> None:
    essay = markdown('Read [the *whole* story](https://example.com/story "Story") here.\n')
    assert texts(essay) == ["Read the whole story here."]


@pytest.mark.parametrize(
    ("source", "spoken"),
    [
        ("See <https://www.example.com/a/b?c=d>.", "See example.com."),
        ("See [https://example.org/post](https://example.org/post).", "See example.org."),
        (
            "See https://news.example.co.uk/2024/05/story, then go.",
            "See news.example.co.uk, then go.",
        ),
        ("Visit www.example.com/path today", "Visit example.com today"),
        ("(https://en.wikipedia.org/wiki/Walk_(film))", "(en.wikipedia.org)"),
        ("Is it http://example.com?", "Is it example.com?"),
        ("Mail <walker@example.com> now", "Mail walker@example.com now"),
    ],
)
def test_bare_urls_become_their_domain(source: str, spoken: str) -> None:
    assert texts(markdown(source)) == [spoken]


def test_images_are_dropped_with_their_alt_text() -> None:
    essay = markdown("A view ![a wide valley](v.png) of the valley.\n\n![alone](a.png)\n")
    assert texts(essay) == ["A view of the valley."]


def test_footnote_markers_and_definitions_are_dropped() -> None:
    essay = markdown(
        "A claim.[^1] Another.[^note] Inline too.^[An inline note.]\n\n"
        "[^1]: The source.\n[^note]: A longer note.\n\n    With a second paragraph.\n"
    )
    assert texts(essay) == ["A claim. Another. Inline too."]


def test_inline_html_tags_are_stripped() -> None:
    essay = markdown("Press <kbd>Ctrl</kbd>+<kbd>C</kbd>,<br>then <span class='x'>wait</span>.\n")
    assert texts(essay) == ["Press Ctrl+C, then wait."]


def test_punctuation_quotes_and_dashes_are_kept_as_written() -> None:
    source = '"Straight" and “curly” quotes -- a dash — another... it\'s \u2018fine\u2019 & 100%!\n'
    assert texts(markdown(source)) == [source.strip()]


def test_backslash_escapes_and_entities_are_resolved() -> None:
    assert texts(markdown("1\\. Not a list &amp; \\*not\\* emphasis &mdash; ok\n")) == [
        "1. Not a list & *not* emphasis — ok"
    ]


def test_heading_text_is_reduced_like_paragraphs() -> None:
    essay = markdown("## The [*first*](https://x.com) mile[^1]\n\nText.\n\n[^1]: note\n")
    assert essay.chapters[0].title == "The first mile"


def test_a_realistic_markdown_essay() -> None:
    essay = load_essay(DATA / "field-notes.md")
    assert essay.meta == EssayMeta(
        title="Notes From the Field",
        slug="field-notes",
        date=dt.date(2023, 11, 2),
        description="A walk, a map and a notebook.",
        author="Ada Field",
    )
    assert essay.chapters == (
        Chapter(
            "",
            (
                paragraph(
                    "I kept a notebook this autumn. It was meant for birds — it became a diary."
                ),
            ),
        ),
        Chapter(
            "The route",
            (
                paragraph(
                    "We followed the old drovers' road, marked on the map at ordnancesurvey.co.uk."
                ),
                Block("list_item", "Start at the church.", number=1),
                Block("list_item", "Cross the ford (carefully).", number=2),
                Block("list_item", "Stop for tea.", number=3),
                Block("quote", "Walk as if you are kissing the Earth with your feet."),
                paragraph("Weather"),
                paragraph("Rain, then sun, then rain again."),
            ),
        ),
        Chapter(
            "What I carried",
            (
                Block("list_item", "a flask"),
                Block("list_item", "the notebook"),
                Block("code", "", language="text"),
                paragraph("Day, Miles"),
                paragraph("1, 9"),
                paragraph("2, 12"),
            ),
        ),
    )


# --- HTML --------------------------------------------------------------------------------------


def test_a_substack_newsletter_page_block_by_block() -> None:
    essay = load_essay(DATA / "newsletter.html")
    assert essay.meta == EssayMeta(
        title="The Long Walk Home",
        slug="newsletter",
        date=dt.date(2024, 3, 7),
        description="On walking, distance and the weather.",
        author="Ada Field",
        image="https://cdn.example.com/images/walk.jpg",
    )
    opening, leaving, arriving = essay.chapters
    assert opening == Chapter(
        "",
        (
            paragraph("On walking, distance and the weather"),
            paragraph(
                "I left the house at six, before the light & the traffic. "
                "The road was empty — or nearly."
            ),
            paragraph("The road out of town, just after six."),
        ),
    )
    assert leaving == Chapter(
        "Leaving",
        (
            paragraph("Three things I always pack:"),
            Block("list_item", "water,", number=3),
            Block("list_item", "a map from the survey office,", number=4),
            Block("list_item", "patience.", number=5),
            Block("quote", "“The journey is the destination.”"),
            Block("quote", "— someone, probably"),
        ),
    )
    assert arriving == Chapter(
        "Arriving",
        (
            paragraph("Some text sits right in the div, as exports do."),
            paragraph("I ran the numbers:"),
            Block("code", "", language="python"),
            paragraph("More at fieldnotes.example.com."),
        ),
    )


def test_html_title_prefers_og_title_then_h1_then_the_page_title() -> None:
    head = "<title>Page title | Site</title>"
    og = '<meta property="og:title" content="Social title">'
    body = "<h1>Heading title</h1><p>Text.</p>"
    assert html(f"<head>{head}{og}</head><body>{body}</body>").meta.title == "Social title"
    assert html(f"<head>{head}</head><body>{body}</body>").meta.title == "Heading title"
    assert html(f"<head>{head}</head><body><p>Text.</p></body>").meta.title == "Page title | Site"
    assert html("<p>Text.</p>", slug_hint="a-walk").meta.title == "A walk"


def test_html_title_h1_is_not_read_but_other_h1s_start_chapters() -> None:
    essay = html("<h1>Title</h1><p>Intro.</p><h1>Part</h1><h2>Chapter</h2><p>Text.</p>")
    assert essay.meta.title == "Title"
    assert essay.chapters == (
        Chapter("", (paragraph("Intro."),)),
        Chapter("Chapter", (paragraph("Text."),)),
    )


def test_html_h1_in_a_skipped_header_still_names_the_essay() -> None:
    essay = html("<header><h1>From the header</h1></header><main><p>Text.</p></main>")
    assert essay.meta.title == "From the header"
    assert texts(essay) == ["Text."]


def test_html_meta_falls_back_to_og_description() -> None:
    essay = html(
        '<meta property="og:description" content="Social text.">'
        '<meta property="article:published_time" content="not a date"><p>Text.</p>'
    )
    assert essay.meta.description == "Social text."
    assert essay.meta.date is None


def test_html_headings_follow_the_chapter_level() -> None:
    source = "<h2>Part</h2><p>A.</p><h3>Section</h3><p>B.</p><h4>Small</h4><p>C.</p>"
    assert html(source).chapters == (
        Chapter(
            "Part",
            (
                paragraph("A."),
                paragraph("Section"),
                paragraph("B."),
                paragraph("Small"),
                paragraph("C."),
            ),
        ),
    )
    assert [c.title for c in html(source, chapter_level=3).chapters] == ["Part", "Section"]


@pytest.mark.parametrize(
    "ignored",
    [
        "<script>var read = 'never';</script>",
        "<style>p { color: red }</style>",
        "<nav><a href='/'>Home</a></nav>",
        "<header><p>Site name</p></header>",
        "<footer><p>© 2024</p></footer>",
        "<aside><p>Related posts</p></aside>",
        "<form><label>Email</label><input name='email'></form>",
        "<noscript><p>Enable JavaScript</p></noscript>",
        "<svg><text>Logo</text></svg>",
        "<iframe src='https://video.example.com'>Video</iframe>",
        "<button>Subscribe</button>",
        "<p hidden>Hidden text</p>",
        "<div aria-hidden='true'>Icon label</div>",
        "<div class='subscription-widget'><p>Subscribe for free</p></div>",
        "<p class='button-wrapper'><a class='button'>Share</a></p>",
    ],
)
def test_html_page_furniture_is_ignored(ignored: str) -> None:
    essay = html(f"<body><p>Before.</p>{ignored}<p>After.</p></body>")
    assert texts(essay) == ["Before.", "After."]


def test_html_text_directly_inside_divs_is_found() -> None:
    essay = html(
        "<div>Loose text <em>here</em>.<div><p>Inner.</p>Trailing words.</div></div>"
        "Text in the body itself.<br>Same paragraph."
    )
    assert texts(essay) == [
        "Loose text here.",
        "Inner.",
        "Trailing words.",
        "Text in the body itself. Same paragraph.",
    ]


def test_html_lists_and_their_numbers() -> None:
    essay = html(
        "<ul><li>bread</li><li><a href='/cheese'>cheese</a></li></ul>"
        "<ol start='5'><li>five</li><li value='9'>nine</li><li>ten"
        "<ol><li>inner</li></ol></li></ol>"
    )
    assert all_blocks(essay) == [
        Block("list_item", "bread"),
        Block("list_item", "cheese"),
        Block("list_item", "five", number=5),
        Block("list_item", "nine", number=9),
        Block("list_item", "ten", number=10),
        Block("list_item", "inner", number=1),
    ]


def test_html_quotes_figures_and_tables() -> None:
    essay = html(
        "<blockquote>Said once.<p>Said twice.</p></blockquote>"
        "<figure><img src='a.png' alt='never read'>"
        "<figcaption>A <b>caption</b>.</figcaption></figure>"
        "<table><caption>Distances</caption><tr><th>Town</th><th>Miles</th></tr>"
        "<tr><td>Ashby</td><td>12</td></tr></table>"
    )
    assert all_blocks(essay) == [
        Block("quote", "Said once."),
        Block("quote", "Said twice."),
        paragraph("A caption."),
        paragraph("Distances"),
        paragraph("Town, Miles"),
        paragraph("Ashby, 12"),
    ]


def test_html_code_blocks_keep_their_language() -> None:
    essay = html(
        "<p>Run <code>walk()</code>:</p>"
        "<pre><code class='hljs language-rust'>fn main() {}</code></pre>"
        "<pre class='lang-sh'>ls</pre><pre>plain</pre>"
    )
    assert all_blocks(essay) == [
        paragraph("Run walk():"),
        Block("code", "", language="rust"),
        Block("code", "", language="sh"),
        Block("code", ""),
    ]


@pytest.mark.parametrize(
    "source",
    [
        # markdown-it / mdit-py-plugins
        '<p>Claim.<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup></p>'
        '<hr class="footnotes-sep"><section class="footnotes"><ol class="footnotes-list">'
        '<li id="fn1" class="footnote-item"><p>Source. <a href="#fnref1">↩︎</a></p></li>'
        "</ol></section>",
        # pandoc
        '<p>Claim.<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref">'
        "<sup>1</sup></a></p>"
        '<section id="footnotes" class="footnotes footnotes-end-of-document" role="doc-endnotes">'
        '<ol><li id="fn1"><p>Source.</p></li></ol></section>',
        # a plain superscript link and a list of notes with ids
        '<p>Claim.<sup><a href="#note-1">1</a></sup></p><ol id="fn-list"><li>Source.</li></ol>',
        # a footnotes div
        '<p>Claim.</p><div class="footnotes"><p>Source.</p></div>',
    ],
)
def test_html_footnotes_are_dropped(source: str) -> None:
    assert texts(html(source)) == ["Claim."]


def test_html_superscripts_that_are_not_footnotes_are_read() -> None:
    assert texts(html("<p>E = mc<sup>2</sup></p>")) == ["E = mc2"]


def test_html_reads_the_biggest_article_not_the_comments() -> None:
    essay = html(
        "<main><article><h1>Post</h1><p>The long post text, with plenty to read.</p></article>"
        "<section class='comments'><article><p>Nice!</p></article></section></main>"
    )
    assert texts(essay) == ["The long post text, with plenty to read."]


def test_html_entities_whitespace_and_bare_urls() -> None:
    essay = html("<p>Fish&nbsp;&amp;\n   chips &mdash; at https://www.chippy.example/menu.</p>")
    assert texts(essay) == ["Fish & chips — at chippy.example."]


def test_html_link_text_is_kept() -> None:
    essay = html('<p>See <a href="https://example.com/x"><strong>this</strong> map</a>.</p>')
    assert texts(essay) == ["See this map."]


def test_html_is_parsed_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    essay = html(
        f"<p onclick=\"open('{marker}', 'w')\">Text.</p>"
        f"<script>require('fs').writeFileSync('{marker}', '')</script>"
    )
    assert texts(essay) == ["Text."]
    assert not marker.exists()


# --- plain text --------------------------------------------------------------------------------


def test_text_title_line_and_paragraphs() -> None:
    essay = parse_text(
        "A Walk in Spring\n\nThe first paragraph\nwraps here.\n\n\n  Second paragraph.  \n",
        slug_hint="spring",
    )
    assert essay.meta == EssayMeta(title="A Walk in Spring", slug="spring")
    assert essay.chapters == (
        Chapter("", (paragraph("The first paragraph wraps here."), paragraph("Second paragraph."))),
    )


@pytest.mark.parametrize(
    "first",
    [
        "This first line is a sentence.",
        "Two lines\nare not a title",
        "A very long first line that goes on and on without a full stop at the end, far too long",
    ],
)
def test_text_first_paragraph_that_is_not_a_title_is_read(first: str) -> None:
    essay = parse_text(f"{first}\n\nMore.\n", slug_hint="on-walking")
    assert essay.meta.title == "On walking"
    assert texts(essay) == [" ".join(first.split()), "More."]


def test_text_single_line_is_read_not_made_a_title() -> None:
    essay = parse_text("Short note", slug_hint="note")
    assert essay.meta.title == "Note"
    assert texts(essay) == ["Short note"]


def test_text_keeps_markup_characters_and_reduces_urls() -> None:
    essay = parse_text(
        "# Not a heading\r\n\r\n*not emphasis* -- see https://example.com/a.\r\n",
        slug_hint="plain",
    )
    assert essay.meta.title == "# Not a heading"
    assert texts(essay) == ["*not emphasis* -- see example.com."]


def test_text_has_one_chapter_whatever_it_looks_like() -> None:
    essay = parse_text("Title\n\nONE\n\nText.\n\n## Two\n\nMore.\n", slug_hint="t")
    assert len(essay.chapters) == 1
    assert texts(essay) == ["ONE", "Text.", "## Two", "More."]


def test_text_with_nothing_to_read() -> None:
    with pytest.raises(StudioError, match="essay 'blank' has nothing to read"):
        parse_text(" \n\n \n", slug_hint="blank")
