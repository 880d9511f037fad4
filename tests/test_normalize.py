# ruff: noqa: RUF001 - the cases are written with the typographic characters writers use.
"""normalize(): each rule's exact spoken output, and what no output may contain."""

from __future__ import annotations

import re

import pytest

from studio.speech.normalize import normalize

CASES: dict[str, list[tuple[str, str]]] = {
    "cardinals": [
        ("It has 1,234 users.", "It has one thousand two hundred and thirty-four users."),
        ("It has 1234 users.", "It has one thousand two hundred and thirty-four users."),
        ("We saw 3000 of them.", "We saw three thousand of them."),
        ("About 1,000,000 rows.", "About one million rows."),
        ("Count 1, 2, 3.", "Count one, two, three."),
        ("Agent 007.", "Agent zero zero seven."),
    ],
    "negatives": [
        ("It was -5 outside.", "It was minus five outside."),
        ("A change of -3.5 points.", "A change of minus three point five points."),
        ("We lost -$5 on it.", "We lost minus five dollars on it."),
    ],
    "decimals": [
        ("Pi is 3.14.", "Pi is three point one four."),
        ("It scored 1.50 overall.", "It scored one point five zero overall."),
        ("Only .5 of it.", "Only point five of it."),
    ],
    "ordinals": [
        (
            "The 1st, 22nd and 103rd runs.",
            "The first, twenty-second and one hundred and third runs.",
        ),
        ("A 2nd-order effect.", "A second-order effect."),
    ],
    "years": [
        ("It was 1999.", "It was nineteen ninety-nine."),
        ("Since 2005 it grew.", "Since two thousand and five it grew."),
        ("By 2024, everyone knew.", "By twenty twenty-four, everyone knew."),
        ("In 1990 computers were slow.", "In nineteen ninety computers were slow."),
        ("In 1905 it began.", "In nineteen oh five it began."),
        ("The 2020s were wild.", "The twenty twenties were wild."),
        ("The 1990s and the '80s.", "The nineteen nineties and the eighties."),
        ("The 1960s–1970s.", "The nineteen sixties to nineteen seventies."),
        ("From 1999-2005.", "From nineteen ninety-nine to two thousand and five."),
        ("The 2020-21 season.", "The twenty twenty to twenty-one season."),
        ("Mid-2024 it shipped.", "Mid twenty twenty-four it shipped."),
        # A plural noun after a four-digit number makes it a count.
        ("A window of 2048 tokens.", "A window of two thousand and forty-eight tokens."),
        ("Only 1500 people came.", "Only fifteen hundred people came."),
    ],
    "money": [
        ("It costs $15.", "It costs fifteen dollars."),
        ("It costs $1.", "It costs one dollar."),
        ("It costs $0.55.", "It costs fifty-five cents."),
        ("It costs $0.01.", "It costs one cent."),
        ("It costs $1.50.", "It costs one dollar and fifty cents."),
        ("It costs $1,200.", "It costs one thousand two hundred dollars."),
        ("We raised ~$1M.", "We raised about one million dollars."),
        ("A $10-20M round.", "A ten to twenty million dollars round."),
        ("A $10M-$20M round.", "A ten to twenty million dollars round."),
        ("From $500K-$2M.", "From five hundred thousand to two million dollars."),
        ("Revenue >$50M.", "Revenue more than fifty million dollars."),
        ("It is <$5 now.", "It is less than five dollars now."),
        ("It is $3/$12 per million.", "It is three dollars and twelve dollars per million."),
        ("Only $15/M.", "Only fifteen dollars per million."),
        ("Only $2.50/M tokens.", "Only two dollars and fifty cents per million tokens."),
        ("Only $3/1M tokens.", "Only three dollars per million tokens."),
        ("Only $0.10/hr.", "Only ten cents per hour."),
        ("Pay $20/mo or $200/yr.", "Pay twenty dollars per month or two hundred dollars per year."),
        ("It is $10/user/month.", "It is ten dollars per user per month."),
        ("Priced at $15/MTok.", "Priced at fifteen dollars per million tokens."),
        ("They raised $1.4B.", "They raised one point four billion dollars."),
        ("A $3K bonus.", "A three thousand dollars bonus."),
        ("A $5 million deal.", "A five million dollars deal."),
        ("It costs €20 or £5.", "It costs twenty euros or five pounds."),
        ("It costs £1.01.", "It costs one pound and one penny."),
        ("Over $1M+ raised.", "Over more than one million dollars raised."),
    ],
    "plus": [
        ("It has 1M+ downloads.", "It has more than one million downloads."),
        ("In 30+ languages.", "In more than thirty languages."),
        ("Then 2+2 is 4.", "Then two plus two is four."),
    ],
    "percentages": [
        ("Growth of 15%.", "Growth of fifteen percent."),
        ("Growth of 3.5%.", "Growth of three point five percent."),
        ("Growth of 15-20%.", "Growth of fifteen to twenty percent."),
        ("A +5% change.", "A plus five percent change."),
        ("A -5% change.", "A minus five percent change."),
    ],
    "fractions": [
        ("Add 1/2 cup.", "Add one half cup."),
        ("Add 3/4 of it.", "Add three quarters of it."),
        ("Add 2/3 of it.", "Add two thirds of it."),
        ("Add 1/3 of it.", "Add one third of it."),
        ("Add 5/8 inch.", "Add five eighths inch."),
        ("Add 1/100 of it.", "Add one hundredth of it."),
        ("Add 1 1/2 cups.", "Add one and one half cups."),
        ("Add 1½ cups.", "Add one and one half cups."),
        ("I give it 10/10.", "I give it ten out of ten."),
        ("It went 7/11.", "It went seven eleven."),
        ("A 50/50 bet.", "A fifty-fifty bet."),
        ("After 9/11.", "After nine eleven."),
    ],
    "ranges": [
        ("Pages 10-20.", "Pages ten to twenty."),
        ("Pages 10–20.", "Pages ten to twenty."),
        ("Pages 10 - 20.", "Pages ten to twenty."),
        ("A 3-2 win.", "A three to two win."),
    ],
    "magnitudes": [
        ("A 7B model.", "A seven billion model."),
        ("It has 1.4M users.", "It has one point four million users."),
        (
            "The 70B and 405B models.",
            "The seventy billion and four hundred and five billion models.",
        ),
        ("Mixtral 8x7B.", "Mixtral eight by seven billion."),
        ("A 128K context.", "A one hundred and twenty-eight thousand context."),
        ("About 10k stars.", "About ten thousand stars."),
        ("A 1T model.", "A one trillion model."),
        ("Between 10-20M users.", "Between ten to twenty million users."),
        ("A 7B-parameter model.", "A seven billion-parameter model."),
    ],
    "multipliers": [
        ("It is 10x faster.", "It is ten times faster."),
        ("It is 2-3x faster.", "It is two to three times faster."),
        (
            "A 1920x1080 screen.",
            "A one thousand nine hundred and twenty by one thousand and eighty screen.",
        ),
    ],
    "abbreviations": [
        ("Cats vs. dogs.", "Cats versus dogs."),
        ("Cats vs dogs.", "Cats versus dogs."),
        ("Fruit, e.g. pears.", "Fruit, for example pears."),
        ("Fruit, e.g., pears.", "Fruit, for example, pears."),
        ("The core, i.e. the kernel.", "The core, that is the kernel."),
        ("Bob, a.k.a. Robert.", "Bob, also known as Robert."),
        ("Apples, pears, etc.", "Apples, pears, et cetera."),
        ("Apples, pears, etc. are fruit.", "Apples, pears, et cetera are fruit."),
        ("Some fruit (apples, etc.)", "Some fruit, apples, et cetera."),
        ("Dr. Smith and Mr. Jones.", "Doctor Smith and Mister Jones."),
        ("Mrs. Lee and Ms. Park.", "Missus Lee and Miz Park."),
        ("St. Louis is on Main St.", "Saint Louis is on Main Street."),
        ("It took approx. 5 hours.", "It took approximately five hours."),
        ("Smith et al. found it.", "Smith et al found it."),
        ("The U.S. and the U.K.", "The U-S and the U-K."),
        ("Roe v. Wade.", "Roe versus Wade."),
        ("Get No. 5 w/ cream, w/o sugar.", "Get number five with cream, without sugar."),
        ("A PhD thesis.", "A P-H-D thesis."),
    ],
    "model names": [
        ("The o1 model.", "The oh one model."),
        ("The o3-mini model.", "The oh three mini model."),
        ("DeepSeek R1 and V3.", "DeepSeek R one and V three."),
        ("DeepSeek-V3 is out.", "DeepSeek V three is out."),
        ("GPT-4 is here.", "G-P-T four is here."),
        ("GPT-4o is here.", "G-P-T four oh is here."),
        ("GPT-4o-mini is here.", "G-P-T four oh mini is here."),
        ("GPT-3.5-turbo is here.", "G-P-T three point five turbo is here."),
        ("Llama 3.1 is open.", "Llama three point one is open."),
        ("Llama-3-8B is open.", "Llama three eight billion is open."),
        ("Claude 3.5 Sonnet writes.", "Claude three point five Sonnet writes."),
        ("Qwen2.5 is open.", "Qwen two point five is open."),
        (
            "Qwen2.5-72B-Instruct is open.",
            "Qwen two point five seventy-two billion Instruct is open.",
        ),
        ("An H100 and an A100.", "An H one hundred and an A-one hundred."),
        ("A cluster of H100s.", "A cluster of H one hundred's."),
        ("The M2 chip.", "The M two chip."),
        ("The 3D model on 5G.", "The three D model on five G."),
        ("A B2B tool.", "A B two B tool."),
        ("The x86-64 build.", "The x eighty-six sixty-four build."),
        ("COVID-19 hit.", "COVID nineteen hit."),
    ],
    "versions": [
        ("Python v3.10 shipped.", "Python version three point ten shipped."),
        ("Release 1.2.3 shipped.", "Release one point two point three shipped."),
        ("Web 2.0 arrived.", "Web two point zero arrived."),
    ],
    "acronyms": [
        ("The GPT API.", "The G-P-T A-P-I."),
        ("An LLM on a GPU and CPU.", "An L-L-M on a G-P-U and C-P-U."),
        ("AI, URL and HTML.", "A-I, U-R-L and H-T-M-L."),
        ("NASA, NATO and JSON.", "NASA, NATO and JSON."),
        ("GPUs and LLMs.", "G-P-U's and L-L-M's."),
        ("The CEO's view and NASA's plan.", "The C-E-O's view and NASA's plan."),
        ("I did NOT say that.", "I did NOT say that."),
        ("THIS IS HUGE NEWS FOR GPU USERS.", "THIS IS HUGE NEWS FOR GPU USERS."),
        ("World War II and Part IV.", "World War two and Part four."),
        ("Life in WWII.", "Life in World War Two."),
    ],
    "slashes": [
        ("Yes and/or no.", "Yes and or no."),
        ("The input/output path.", "The input or output path."),
        ("He/she/they said it.", "He or she or they said it."),
        ("At 100 tokens/s.", "At one hundred tokens per second."),
        ("At 60 km/h.", "At sixty kilometres per hour."),
        ("Five requests/day, night/day.", "Five requests per day, night or day."),
        ("Three/day at most.", "Three per day at most."),
        ("It is 24/7.", "It is twenty-four seven."),
        ("An A/B test, I/O bound, N/A.", "An A-B test, I-O bound, not applicable."),
        ("Ask r/MachineLearning.", "Ask r slash MachineLearning."),
    ],
    "clock times": [
        ("Meet at 9:30.", "Meet at nine thirty."),
        ("Meet at 9:05 am.", "Meet at nine oh five A-M."),
        ("Meet at 9:30 p.m.", "Meet at nine thirty P-M."),
        ("Meet at 14:00.", "Meet at fourteen hundred."),
        ("Meet at 14:30.", "Meet at fourteen thirty."),
        ("Meet at 12:00.", "Meet at twelve o'clock."),
        ("Meet at 9:00.", "Meet at nine o'clock."),
        ("Meet at 00:00.", "Meet at midnight."),
        ("Meet at 0:30.", "Meet at twelve thirty A-M."),
        ("Meet at 9am.", "Meet at nine A-M."),
        ("Meet at 5 p.m.", "Meet at five P-M."),
        ("Meet at 5 PM sharp.", "Meet at five P-M sharp."),
        ("A 16:9 screen.", "A sixteen to nine screen."),
    ],
    "dates": [
        ("On 2024-03-15.", "On March fifteenth, twenty twenty-four."),
        ("On March 5, 2024.", "On March fifth, twenty twenty-four."),
        ("On March 5, 2024, we met.", "On March fifth, twenty twenty-four, we met."),
        ("On March 5th.", "On March fifth."),
        ("On Sept. 5 and Jan 1st.", "On September fifth and January first."),
        ("On 5 March 2024.", "On the fifth of March, twenty twenty-four."),
        ("In March 2024.", "In March twenty twenty-four."),
        ("On 3/15/2024.", "On March fifteenth, twenty twenty-four."),
        ("On 15/3/2024.", "On March fifteenth, twenty twenty-four."),
    ],
    "symbols": [
        ("R&D costs.", "R and D costs."),
        ("Ask @karpathy.", "Ask at karpathy."),
        ("It is #1.", "It is number one."),
        ("It went #viral.", "It went hashtag viral."),
        ("C++ and C#.", "C plus plus and C sharp."),
        ("Then 2+2=4.", "Then two plus two equals four."),
        ("Q3 results.", "Q three results."),
        ("It moved A -> B.", "It moved A to B."),
        ("Alpha α, beta β, π ≈ 3.14.", "Alpha alpha, beta beta, pi about three point one four."),
        ("The file(s) are here.", "The files are here."),
    ],
    "units": [
        ("It takes 5 ms.", "It takes five milliseconds."),
        ("It takes 5ms.", "It takes five milliseconds."),
        ("It takes 1 s.", "It takes one second."),
        ("It uses 3 GB.", "It uses three gigabytes."),
        ("It uses 1 GB.", "It uses one gigabyte."),
        ("It is 10 km away.", "It is ten kilometres away."),
        ("It weighs 2 kg.", "It weighs two kilograms."),
        (
            "At 3.2 GHz, 48 kHz, 60 Hz and 100 MHz.",
            "At three point two gigahertz, forty-eight kilohertz, sixty hertz and one hundred"
            " megahertz.",
        ),
        ("It is 60 dB at 30 fps.", "It is sixty decibels at thirty frames per second."),
        (
            "It has 2 TB, 512 MB and 64 KB.",
            "It has two terabytes, five hundred and twelve megabytes and sixty-four kilobytes.",
        ),
        ("It takes 5-10 ms.", "It takes five to ten milliseconds."),
        ("It is 20°C or -5°F.", "It is twenty degrees Celsius or minus five degrees Fahrenheit."),
        ("It reads 5 GB/s.", "It reads five gigabytes per second."),
        ("Encoded at 96 kbps.", "Encoded at ninety-six kilobits per second."),
    ],
    "pauses": [
        ("Wait — what?", "Wait, what?"),
        ("Wait—what?", "Wait, what?"),
        ("Yes – no.", "Yes, no."),
        ("Yes -- no.", "Yes, no."),
        ("Yes - no.", "Yes, no."),
        ("Well... maybe.", "Well, maybe."),
        ("Well… maybe.", "Well, maybe."),
        ("I think so...", "I think so."),
        ("The (tiny) model.", "The, tiny, model."),
        ("A gap — (really) — here.", "A gap, really, here."),
    ],
    "quotes": [
        ("“Hello,” she said.", '"Hello," she said.'),
        ("It’s ‘fine’.", "It's 'fine'."),
        ("He said «bonjour».", 'He said "bonjour".'),
        ("Michelson–Morley.", "Michelson-Morley."),
    ],
    "addresses": [
        ("See https://example.com/path?x=1 now.", "See example dot com now."),
        ("See https://www.example.co.uk.", "See example dot co dot U-K."),
        ("See example.com.", "See example dot com."),
        ("Visit github.com/foo for more.", "Visit github dot com for more."),
        ("Try x.ai today.", "Try x dot A-I today."),
        ("Mail john.doe@example.com.", "Mail john dot doe at example dot com."),
        ("Mail bob42@web3.io.", "Mail bob four two at web three dot I-O."),
        ("Node.js is not an address.", "Node.js is not an address."),
    ],
    "transcripts": [
        ("Lex Fridman [00:02:01]: Welcome back.", "Lex Fridman: Welcome back."),
        ("Ada (1:02:03): Thanks.", "Ada: Thanks."),
        ("[00:12] So anyway.", "So anyway."),
    ],
    "notation": [
        ("Trained on 8×H100 GPUs.", "Trained on eight times H one hundred G-P-U's."),
        ("Trained on 4xA100.", "Trained on four times A-one hundred."),
        ("A 2×RTX 4090 rig.", "A two times R-T-X forty ninety rig."),
        ("A 3x3 kernel.", "A three by three kernel."),
        ("It is 3 × 4.", "It is three times four."),
        ("A rate of 3e-4.", "A rate of three times ten to the power of minus four."),
        ("About 1.5e10 tokens.", "About one point five times ten to the power of ten tokens."),
        ("About 1.5×10^9 of them.", "About one point five times ten to the power of nine of them."),
        ("That is 2^16 values.", "That is two to the power of sixteen values."),
        ("A step of 10⁻⁴.", "A step of ten to the power of minus four."),
        ("It is 5 ± 0.2 mm.", "It is five plus or minus zero point two millimetres."),
        ("So 3 ≈ 3.1 here.", "So three is approximately three point one here."),
        ("From 3 → 4.", "From three to four."),
        ("If 10 ≥ 5 then.", "If ten is greater than or equal to five then."),
    ],
    "versions and model names": [
        ("Get v0.2.1 now.", "Get version zero point two point one now."),
        ("Python 3.12 is out.", "Python three point twelve is out."),
        (
            "Use Llama-3.1-70B-Instruct today.",
            "Use Llama three point one seventy billion Instruct today.",
        ),
        ("Try gemma-2-9b-it now.", "Try gemma two nine billion I-T now."),
        ("Try Llama-2-7b-hf now.", "Try Llama two seven billion H-F now."),
        ("A 128k context.", "A one hundred and twenty-eight thousand context."),
        ("A 1M-token context.", "A one million-token context."),
        ("It has 32k tokens.", "It has thirty-two thousand tokens."),
    ],
    "plural acronyms": [
        ("Many GPUs and one LLM's output.", "Many G-P-U's and one L-L-M's output."),
        ("The LLMs' outputs.", "The L-L-M's outputs."),
    ],
    "handles and files": [
        ("Follow #MachineLearning.", "Follow hashtag Machine Learning."),
        ("Ask @jack_dorsey.", "Ask at jack dorsey."),
        ("Load model.safetensors now.", "Load model dot safe tensors now."),
        ("Edit config.json and README.md.", "Edit config dot JSON and README dot M-D."),
        ("Run src/main.py today.", "Run src slash main dot pie today."),
        ("Look in ~/models/llama first.", "Look in tilde slash models slash llama first."),
        ("Edit /etc/hosts.conf now.", "Edit slash etc slash hosts dot conf now."),
    ],
    "symbols from fuzzing": [
        ("It is 5‰.", "It is five per mille."),
        ("If A ≥ B then B ≤ C.", "If A greater than or equal to B then B less than or equal to C."),
        ("It costs ₹500.", "It costs five hundred rupees."),
        ("It costs ₹12.50.", "It costs twelve rupees and fifty paise."),
        ("It costs ₩5000 or ₽10.", "It costs five thousand won or ten rubles."),
        ("Call 555-1234.", "Call five five five, one two three four."),
        (
            "Call (555) 555-1234.",
            "Call five five five, five five five, one two three four.",
        ),
        (
            "Call +1 555-555-1234.",
            "Call plus one, five five five, five five five, one two three four.",
        ),
        ("Between 500-1000 users.", "Between five hundred to one thousand users."),
        ("It costs €5,50.", "It costs five euros and fifty cents."),
        (
            "It costs 1.234,56 €.",
            "It costs one thousand two hundred and thirty-four euros and fifty-six cents.",
        ),
        ("Steps ❹ and ⓷ and ①.", "Steps four and three and one."),
        ("So x ∈ S and ∞.", "So x in S and infinity."),
        ("Paid in ₿ today.", "Paid in bitcoin today."),
        ("Our Widget™ ships.", "Our Widget ships."),
    ],
    "markup and spacing": [
        ("Some **bold** and `code` here.", "Some bold and code here."),
        ("A claim [1] and a note [^2].", "A claim and a note."),
        ("A <b>tag</b> left.", "A tag left."),
        ("   spaces   everywhere  , okay  .", "spaces everywhere, okay."),
        ("Odd ,spacing ; here !", "Odd, spacing; here!"),
        ("", ""),
    ],
}

ALL_CASES = [case for cases in CASES.values() for case in cases]


@pytest.mark.parametrize(
    ("written", "spoken"),
    [pytest.param(w, s, id=f"{rule}: {w}") for rule, cases in CASES.items() for w, s in cases],
)
def test_spoken_form(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


@pytest.mark.parametrize("written", [w for w, _ in ALL_CASES if w])
def test_output_has_no_digits_symbols_or_space_before_punctuation(written: str) -> None:
    spoken = normalize(written)
    assert not re.search(r"\d", spoken)
    assert not re.search(r"[$%/~<>+&@#*_`()\[\]{}|\\=^€£¥°…—–“”‘’«»]", spoken)
    assert not re.search(r"\s[.,;:?!]", spoken)
    assert spoken == spoken.strip() and "  " not in spoken


def test_normalize_is_idempotent_on_its_own_output() -> None:
    for written, _ in ALL_CASES:
        once = normalize(written)
        assert normalize(once) == once, written


def test_every_word_keeps_a_spoken_form() -> None:
    # Words without digits or symbols pass through: nothing is silently dropped.
    text = "Naïve café owners in Zürich don't panic, they smile."
    assert normalize(text) == text


def test_nothing_spoken_comes_from_private_use_characters() -> None:
    # The lexicon's placeholders are private-use characters; stray ones in the input are dropped.
    assert normalize("A\ue000 B\ue001.") == "A B."


def test_transcript_timestamps_can_be_read() -> None:
    assert normalize("Ada [01:02:03]: Hi.", read_timestamps=True) == (
        "Ada, at one hour two minutes three seconds: Hi."
    )
    assert normalize("Ada [00:02:00]: Hi.", read_timestamps=True) == "Ada, at two minutes: Hi."


def test_only_bracketed_times_are_transcript_timestamps() -> None:
    assert normalize("We met at 10:30 (sharp).") == "We met at ten thirty, sharp."


def test_a_spelled_run_with_an_inner_a_goes_as_letter_names_to_voices_that_take_ipa() -> None:
    # espeak-ng reads the "A" of "G-A-N" as the article; the letters' own names fix it.
    assert normalize("A GAN and two VAEs.") == "A [[ˌdʒiːˌeɪˈɛn]] and two [[ˌviːˌeɪˈiːz]]."
    assert normalize("A GAN here.", allow_ipa=False) == "A G-A-N here."
    assert normalize("The API.") == "The A-P-I."
