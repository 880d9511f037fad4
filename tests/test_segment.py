from studio.speech.segment import fit_to_limit, merge_short, split_sentences


def shout(text: str) -> str:
    return text.upper()


def test_split_sentences_keeps_abbreviations_and_money_whole() -> None:
    text = "Prices fell, e.g. to $1.5M in 2024. Dr. Smith disagreed! Did they?"
    assert split_sentences(text) == [
        "Prices fell, e.g. to $1.5M in 2024.",
        "Dr. Smith disagreed!",
        "Did they?",
    ]


def test_short_sentence_is_one_part() -> None:
    assert fit_to_limit("Hello there.", shout, 50) == [("Hello there.", "HELLO THERE.")]


def test_long_sentence_splits_at_clause_punctuation_first() -> None:
    source = "First part is here; second part, with a comma, is here too."
    parts = fit_to_limit(source, shout, 30)
    assert [p[0] for p in parts] == [
        "First part is here;",
        "second part, with a comma,",
        "is here too.",
    ]
    assert all(len(spoken) <= 30 for _, spoken in parts)


def test_limit_is_counted_after_normalization() -> None:
    def expand(text: str) -> str:
        return text.replace("$1", "one dollar")

    source = "It cost $1 and $1 and $1."
    parts = fit_to_limit(source, expand, 30)
    assert len(parts) > 1
    assert all(len(spoken) <= 30 for _, spoken in parts)


def test_never_splits_inside_a_word() -> None:
    source = " ".join(["word"] * 40)
    parts = fit_to_limit(source, shout, 23)
    assert all(part.split() and set(part.split()) == {"word"} for part, _ in parts)
    assert " ".join(p for p, _ in parts) == source


def test_a_word_longer_than_the_limit_stays_whole() -> None:
    assert fit_to_limit("Supercalifragilistic", shout, 5) == [
        ("Supercalifragilistic", "SUPERCALIFRAGILISTIC")
    ]


def test_merge_short_reads_lone_short_sentences_with_a_neighbour() -> None:
    sentences = ["No.", "That is not what happened at all.", "Why?", "Because it was late."]
    assert merge_short(sentences, 18, 100) == [[0, 1], [2, 3]]


def test_merge_short_respects_the_limit() -> None:
    assert merge_short(["No.", "x" * 20], 18, 10) == [[0], [1]]


def test_merge_short_joins_a_closing_short_sentence_to_the_one_before() -> None:
    assert merge_short(["That is not what happened at all.", "Why?"], 18, 100) == [[0, 1]]
