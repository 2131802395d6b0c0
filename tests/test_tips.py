"""Checks on the tip catalog (ergo/tips/catalog.toml) and on tip rotation.

The source checks run against the seed articles when they are here (shared/seeds beside the repo,
or ERGO_SEEDS_DIR) and always against the committed index derived from them (tests/seed_index.py),
so a clone without the articles checks the tips' sources too.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from ergo.tips import DEFAULT_KINDS, Tip, load_catalog, load_sources, next_tip, red_flag
from tests import seed_index
from tests.helpers import ergo_env, run_ergo  # noqa: F401
from tests.seed_index import Seeds

ALLOWED_KINDS = frozenset(DEFAULT_KINDS) | {"breathing", "workspace", "strength"}
MAX_LEN = 140

# Words that must never reach a tip: the drug advertising in the seed articles
# and anything else that would turn a reminder into medical advice.
DENY = re.compile(
    r"aspadol|tapentadol|nucynta|pregarica|seliron|pills\s*palace"
    r"|ibuprofen|acetaminophen|paracetamol|aspirin"
    r"|medicat|medicine|drug|\bpills?\b|\btablets?\b|(?:\b|\d)mg\b"
    r"|\bdos(?:e|es|ed|age|ing)\b|relaxant|vitamin|supplement|epsom"
    r"|analgesic|painkiller|narcotic|prescri|anti-?inflammator|injection",
    re.IGNORECASE,
)

# Acute-injury treatment is not a desk reminder.
ACUTE_TREATMENT = re.compile(
    r"\bice\b|\bcold (?:pack|compress)|\bheat(?:ing)? (?:pack|pad|therapy)|\bcompress\b",
    re.IGNORECASE,
)

RED_FLAG = re.compile(r"numb|tingl|weak", re.IGNORECASE)
PROFESSIONAL = re.compile(r"professional|doctor|physician|physical therapist", re.IGNORECASE)


#: Over the articles when they are here, and over the committed index always.
SEED_SOURCES = ["articles", "index"] if seed_index.find_articles() else ["index"]


def _all_tips() -> list[Tip]:
    return [tip for tips in load_catalog().values() for tip in tips]


def _words(text: str) -> list[str]:
    return seed_index.words(text)


@pytest.fixture(scope="module", params=SEED_SOURCES)
def seeds(request) -> Seeds:
    if request.param == "articles":
        return seed_index.from_articles(seed_index.find_articles())
    return seed_index.from_index()


# ------------------------------------------------------------------ sources


@pytest.mark.parametrize("tip", _all_tips(), ids=lambda t: t.id)
def test_source_and_section_exist(tip: Tip, seeds: Seeds) -> None:
    """A tip's section is a heading of its document: a whole line of at most 80 characters, bulleted
    or not ending in a full stop (not a sentence lifted from a paragraph)."""
    assert tip.source in seeds.files, f"{tip.id}: no seed file {tip.source!r}"
    assert tip.section in seeds.headings(tip.source), f"{tip.id}: section {tip.section!r} is not a heading of {tip.source}"


def test_sources_table_titles_match_their_documents(seeds: Seeds) -> None:
    """Each document's title comes from its first line; a bare label ("Overview :") gets a phrase of the document."""
    sources = load_sources()
    assert set(sources) == seeds.files, "every seed document, and only those, is in ergo/tips/sources.toml"
    for file, source in sources.items():
        first_line = seeds.title(file)
        assert source.heading == first_line, f"{file}: first line is {first_line!r}"
        if source.title != first_line:
            label = first_line.rstrip(" :")
            assert first_line.endswith(":") and source.title.startswith(f"{label}: "), source.title
            phrase = source.title[len(label) + 2:]
            assert seeds.has_quote(file, phrase), f"{file}: {phrase!r} is not in the document"
    assert {tip.source for tip in _all_tips()} <= set(sources)


#: 002's list of warning signs, word for word.
WARNING_SIGNS = seed_index.TEST_QUOTES[-1]


def test_red_flag_says_what_the_document_says(seeds: Seeds) -> None:
    """002's warning signs exactly: its own list, verbatim, in quotation marks, cited by title."""
    flag = red_flag()
    file, sentence = WARNING_SIGNS
    assert flag.source == file and seeds.quote_under(file, flag.section, sentence)
    assert sentence.endswith(flag.quote) and sentence == f"If back spasms {flag.quote}"  # the whole list, no less
    assert seeds.quote_under(file, flag.section, flag.quote)
    assert f'"{flag.quote}"' in flag.text and "medical attention" in flag.text
    assert f"({load_sources()[flag.source].title})" in flag.text  # by its title, not its number
    assert not seeds.copied(seed_index.unquoted(flag.text))  # the rest in our own words
    assert PROFESSIONAL.search(flag.text)
    assert DENY.search(flag.text) is None


def test_no_tip_starts_with_its_kinds_title() -> None:
    """The notification's heading is the kind's title; a body that repeats it reads "Posture check: Posture check: ..."."""
    from ergo.config.model import defaults

    titles = {kind: reminder.title for kind, reminder in defaults().reminders().items()}
    for tip in _all_tips():
        title = titles[tip.kind]
        assert title and not _words(tip.text)[: len(_words(title))] == _words(title), f"{tip.id} starts with {title!r}"


def test_reviewed_tips_cite_what_supports_them(seeds: Seeds) -> None:
    """The issue-8 review: each fix and each added topic, checked against the documents."""
    tips = {tip.id: tip for tip in _all_tips()}
    # movement-04 no longer cites 003's "take a few steps", a step for a spasm in progress
    assert tips["movement-04"].source == "004_13427e315021f412.txt" and seeds.has_quote(tips["movement-04"].source, "avoiding prolonged sitting or standing")
    assert tips["movement-02"].section == "Muscle Overuse and Strain" and seeds.has_quote(tips["movement-02"].source, "prolonged periods of sitting")
    assert all(mineral in tips["hydration-07"].text for mineral in ("calcium", "magnesium", "potassium"))
    assert seeds.has_quote(tips["hydration-07"].source, "foods high in calcium, magnesium, and potassium")
    # stretch tips arrive hourly: one says not to stretch into acute pain, as 002 does
    assert seeds.has_quote(tips["stretch-05"].source, "Once the acute pain subsides")
    assert re.search(r"acute", tips["stretch-05"].text) and re.search(r"never stretch into pain", tips["stretch-05"].text)
    # prevention advice that was missing: sleeping posture, sudden or repetitive movements, listening to your body
    sleeping = [t for t in tips.values() if re.search(r"\b(bed|sleep)", t.text)]
    assert {t.kind for t in sleeping} == {"posture"} and len({t.source for t in sleeping}) == 2
    assert any(re.search(r"sudden", t.text) and t.kind == "movement" for t in tips.values())
    assert any(re.search(r"same motion over and over", t.text) for t in tips.values())
    assert any(re.search(r"listen to your body", t.text, re.I) for t in tips.values())
    assert seeds.has_quote("004_13427e315021f412.txt", "listen to your body")


def test_tips_are_in_our_own_words(seeds: Seeds) -> None:
    """No run of six words in a tip appears verbatim in any seed article."""
    for tip in _all_tips():
        copied = seeds.copied(tip.text)
        assert not copied, f"{tip.id} copies the source: {copied}"


def test_the_committed_index_is_current(seeds: Seeds) -> None:
    """With the articles: the committed index is what the script makes from them, and holds none of their
    sentences. Without: it has checked every quote and text ergo cites today (else: regenerate it)."""
    committed = seed_index.INDEX.read_text("utf-8")
    if seeds._texts is not None:
        assert committed == seed_index.dump(seed_index.build_index(seeds)), (
            "tests/data/seed_index.json is stale: run `python -m tests.seed_index` (with the articles present)")
        body = json.loads(committed)
        for file in body["files"].values():
            del file["title"], file["headings"]  # headings and titles are allowed; nothing else of the text
        assert not seeds.copied(json.dumps(body)), "the index holds words of the articles"
    else:
        for file, quote in seed_index.cited_quotes():
            seeds.has_quote(file, quote)  # raises StaleIndex for a quote the index never checked
        unchecked = [t for t in seed_index.ergo_texts() if seeds.copied(t)]
        assert not unchecked, unchecked


def test_default_kinds_draw_on_several_documents() -> None:
    catalog = load_catalog()
    for kind in DEFAULT_KINDS:
        sources = {t.source for t in catalog.get(kind, [])}
        assert len(sources) >= 3, f"{kind} tips come from only {sorted(sources)}"


# ------------------------------------------------------------------ shape


def test_every_default_kind_has_tips() -> None:
    catalog = load_catalog()
    for kind in DEFAULT_KINDS:
        assert len(catalog.get(kind, [])) >= 3, f"kind {kind!r} has fewer than 3 tips"


def test_optional_kinds_have_enough_tips() -> None:
    catalog = load_catalog()
    for kind in ALLOWED_KINDS - set(DEFAULT_KINDS):
        assert len(catalog.get(kind, [])) >= 3, f"kind {kind!r} has fewer than 3 tips"


def test_kinds_are_allowed() -> None:
    assert set(load_catalog()) <= ALLOWED_KINDS


def test_ids_unique_and_well_formed() -> None:
    tips = _all_tips()
    ids = [t.id for t in tips]
    assert len(ids) == len(set(ids)), "duplicate tip ids"
    for tip in tips:
        assert re.fullmatch(rf"{re.escape(tip.kind)}-\d{{2}}", tip.id), f"id {tip.id!r} is not {tip.kind}-NN"


def test_texts_unique() -> None:
    texts = [t.text.strip().lower() for t in _all_tips()]
    assert len(texts) == len(set(texts)), "duplicate tip texts"


@pytest.mark.parametrize("tip", _all_tips(), ids=lambda t: t.id)
def test_text_fits_a_notification(tip: Tip) -> None:
    assert tip.text == tip.text.strip() and tip.text
    assert "\n" not in tip.text
    assert len(tip.text) <= MAX_LEN, f"{tip.id} is {len(tip.text)} characters"


# ------------------------------------------------------------------ content rules


@pytest.mark.parametrize("tip", _all_tips(), ids=lambda t: t.id)
def test_no_drugs_doses_or_brands(tip: Tip) -> None:
    for field in (tip.text, tip.section):
        hit = DENY.search(field)
        assert hit is None, f"{tip.id}: denied word {hit.group(0)!r} in {field!r}"


@pytest.mark.parametrize("tip", _all_tips(), ids=lambda t: t.id)
def test_no_acute_injury_treatment(tip: Tip) -> None:
    hit = ACUTE_TREATMENT.search(tip.text)
    assert hit is None, f"{tip.id}: acute-treatment advice {hit.group(0)!r}"


@pytest.mark.parametrize(
    "bad",
    [
        "Aspadol 100mg before bed",
        "Try Tapentadol",
        "Nucynta helps",
        "Pregarica 75 mg",
        "Neuro seliron",
        "order from PillsPalace",
        "take ibuprofen",
        "take Acetaminophen",
        "paracetamol works",
        "ask about medication",
        "this medicine",
        "a drug for cramps",
        "one pill a day",
        "two tablets",
        "the right dose",
        "a muscle relaxant",
        "vitamins help",
        "a magnesium supplement",
        "an Epsom salt bath",
    ],
)
def test_deny_list_catches_planted_words(bad: str) -> None:
    assert DENY.search(bad), f"deny-list missed {bad!r}"


@pytest.mark.parametrize("ok", ["rest on a pillow", "relaxation helps", "dimgray", "double-check your chair"])
def test_deny_list_leaves_ordinary_words_alone(ok: str) -> None:
    assert DENY.search(ok) is None


def test_acute_treatment_pattern_catches_planted_words() -> None:
    assert ACUTE_TREATMENT.search("Put ice on it")
    assert ACUTE_TREATMENT.search("use a heating pad")
    assert ACUTE_TREATMENT.search("try a cold compress")
    assert ACUTE_TREATMENT.search("notice your shoulders") is None


def test_red_flags_point_to_a_professional() -> None:
    flagged = [t for t in _all_tips() if RED_FLAG.search(t.text) and PROFESSIONAL.search(t.text)]
    assert flagged, "no tip tells people to see a professional about numbness, tingling or weakness"
    assert any(t.kind in ("stretch", "movement") for t in flagged)


# ------------------------------------------------------------------ rotation


@pytest.mark.parametrize("kind", sorted(ALLOWED_KINDS))
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_rotation_shows_every_tip_once_per_cycle(kind: str, seed: int) -> None:
    tips = load_catalog()[kind]
    rng = random.Random(seed)
    shown: set[str] = set()
    for cycle in range(2):
        drawn = []
        for _ in tips:
            tip, shown = next_tip(tips, shown, rng)
            drawn.append(tip.id)
        assert sorted(drawn) == sorted(t.id for t in tips), f"cycle {cycle} repeated or missed a tip"
        assert shown == {t.id for t in tips}
    # The next draw starts a fresh cycle.
    tip, shown = next_tip(tips, shown, rng)
    assert shown == {tip.id}


def test_rotation_is_reproducible_with_a_seed() -> None:
    tips = load_catalog()["posture"]

    def run(seed: int) -> list[str]:
        rng, shown, out = random.Random(seed), set(), []
        for _ in range(len(tips) * 2):
            tip, shown = next_tip(tips, shown, rng)
            out.append(tip.id)
        return out

    assert run(7) == run(7)


def test_next_tip_with_no_tips_raises() -> None:
    with pytest.raises(ValueError):
        next_tip([], set(), random.Random(0))


# ------------------------------------------------------------------ the issue-19 review


GENERAL_PRACTICE = {"posture-03", "posture-05", "posture-08", "stretch-01", "stretch-02", "stretch-03", "stretch-06",
                    "stretch-07", "workspace-01", "workspace-04", "strength-02", "movement-10"}  # movement-10 was posture-06


def test_tips_claim_no_more_than_their_documents(seeds: Seeds) -> None:
    tips = {tip.id: tip for tip in _all_tips()}
    water = tips["hydration-07"]  # water prevents dehydration; the minerals' foods help the electrolytes (004)
    assert "helps prevent dehydration" in water.text and seeds.has_quote(water.source, "water helps prevent dehydration")
    assert not re.search(r"water[^.]*electrolyte|keeps? your electrolytes", water.text, re.I), water.text
    assert seeds.has_quote(water.source, "can also help prevent electrolyte imbalances")
    # a tip that names one warning sign names them all, as 002 does: persist, severe, numbness, tingling, weakness
    for tip in _all_tips():
        if RED_FLAG.search(tip.text):
            for sign in ("persist", "severe", "numbness", "tingling", "weakness"):
                assert sign in tip.text, f"{tip.id} narrows the warning signs: no {sign!r}"
            assert PROFESSIONAL.search(tip.text)
    assert tips["workspace-02"].section == "Make Use of Back Support to Prevent Back Pain."
    # a desk twist is not 000's stretching "before physical activity"
    assert (tips["stretch-03"].source, tips["stretch-03"].section) != ("000_f4b6bc79e35247ba.txt", "Prevention Tips")
    two, three = tips["movement-02"], tips["movement-03"]
    assert (two.source, two.section) != (three.source, three.section) and seeds.has_quote(three.source, "even mere inactivity")


def test_general_practice_tips_are_labelled_in_ergo_tips(ergo_env) -> None:
    from ergo.tips import label

    assert {tip.id for tip in _all_tips() if tip.basis == "general practice"} == GENERAL_PRACTICE
    listed = run_ergo(["tips"], ergo_env).stdout
    for tip in _all_tips():
        after = listed[listed.index(tip.id):].split("\n", 3)
        assert (f"({label(tip)})" in after[2]) == (tip.id in GENERAL_PRACTICE), (tip.id, after[:3])
    assert "general practice: the document gives the topic, not this advice" in listed


def test_lifting_is_not_a_posture_check_and_sleeping_posture_waits_for_the_evening() -> None:
    catalog = load_catalog()
    assert not any(re.search(r"\blift (something|it|things|heavy)|\blifting", t.text) for t in catalog["posture"])
    assert any(re.search(r"\blift", t.text) for t in catalog["movement"])
    sleeping = {t.id for tips in catalog.values() for t in tips if re.search(r"\b(bed|sleep)", t.text)}
    assert sleeping == {t.id for tips in catalog.values() for t in tips if t.when == "evening"} == {"posture-09", "posture-10"}
    rng, shown = random.Random(5), set()
    for _ in range(40):  # daytime: never a sleeping tip, and every daytime tip in turn
        tip, shown = next_tip(catalog["posture"], shown, rng, evening=False)
        assert tip.id not in sleeping
    assert not shown & sleeping
    drawn = set()
    for _ in range(len(catalog["posture"])):  # evening: the sleeping tips come too
        tip, shown = next_tip(catalog["posture"], shown, rng, evening=True)
        drawn.add(tip.id)
    assert sleeping <= drawn


def test_evening_is_the_last_ninety_minutes_of_the_work_window_or_from_six_when_hours_are_all_day() -> None:
    from datetime import datetime, timedelta, timezone

    from ergo.tips import is_evening
    from ergo.timing.worktime import WorkHours

    office = WorkHours.parse("mon-fri", "09:00-17:00", timezone.utc)
    end = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)
    assert is_evening(office, end - timedelta(minutes=90)) and not is_evening(office, end - timedelta(minutes=90, microseconds=1))
    assert not is_evening(office, end)  # outside work hours: no reminder at all
    always = WorkHours.parse("every day", "00:00-24:00", timezone.utc)
    six = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
    assert is_evening(always, six) and not is_evening(always, six - timedelta(microseconds=1))


@pytest.mark.slow
@pytest.mark.parametrize(("hours", "evening"), [("09:00-17:00", False), ("09:00-13:30", True)])
def test_the_daemon_shows_sleeping_posture_tips_only_near_the_end_of_work_hours(hours: str, evening: bool) -> None:
    from datetime import datetime, timezone

    from tests.daemon_helpers import Daemon, ErgoEnv, wait_for

    offset = datetime.now(timezone.utc).hour - 12  # a zone where it is noon now (Etc/GMT+2 is UTC-2)
    with ErgoEnv.create(POSTURE__INTERVAL="1s", HYDRATION__ENABLED="false", SCHEDULE__HOURS=hours) as env:
        env.env["TZ"] = f"Etc/GMT{offset:+d}"
        with Daemon(env) as daemon:
            wait_for(lambda: daemon.stderr().count("reminder posture delivered") >= 14, 40, what="14 posture reminders")
        shown = set(re.findall(r"\(tip (posture-\d\d)\)", daemon.stderr()))
        assert ({"posture-09", "posture-10"} <= shown) == evening, sorted(shown)
        assert not evening or len(shown) == 9
        assert evening or len(shown) == 7
