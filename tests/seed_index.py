"""What the tests know about the five seed articles: from the articles when they are here, else from the index.

The articles (shared/seeds/*.txt) are not public, so a clone from GitHub has none. The committed
index, tests/data/seed_index.json, is derived from them: per file its title (first line), every
heading, a hash of the normalised words of each quote ergo or its tests cite (with the heading it
sits under), and a hash of each ergo text that was checked to copy no run of six words. It holds
no sentence of the articles.

The API, the same over the articles and over the index:

    seeds = load()                       # Seeds: the articles if found, else the committed index
    seeds.source                         # "articles at <dir>" or "index tests/data/seed_index.json"
    seeds.files                          # the seed file names
    seeds.title(file)                    # the file's first line, stripped
    seeds.headings(file)                 # its heading lines, in order (see is_heading)
    seeds.has_quote(file, quote)         # the quote's words appear in the file
    seeds.quote_under(file, section, quote)   # ... and `section` is a heading at or above them
    seeds.copied(text)                   # runs of six words `text` copies from any article ([]: none)

Over the index, has_quote/quote_under know only the quotes in `cited_quotes()` and copied() only the
texts in `ergo_texts()`; anything else fails with "regenerate the index". Regenerate it, with the
articles present, after changing a tip, a plan, or a quote a test cites:

    python -m tests.seed_index            # writes tests/data/seed_index.json
    python -m tests.seed_index --check    # exit 1 if the committed index is stale
    python -m tests.seed_index --which    # one line: which one the tests will use

The articles are found at $ERGO_SEEDS_DIR, else at shared/seeds beside the repository or beside a
folder above it (worktrees).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INDEX = REPO / "tests" / "data" / "seed_index.json"
RUN = 6  # a copied run: this many words in a row
MAX_HEADING = 80

#: Quotes the tests cite in their own code (ergo's data files give the rest, see cited_quotes()).
TEST_QUOTES: tuple[tuple[str, str], ...] = (
    ("004_13427e315021f412.txt", "avoiding prolonged sitting or standing"),
    ("004_13427e315021f412.txt", "listen to your body"),
    ("000_f4b6bc79e35247ba.txt", "prolonged periods of sitting"),
    ("004_13427e315021f412.txt", "foods high in calcium, magnesium, and potassium"),
    ("002_ff3d92e87014b7ae.txt", "Once the acute pain subsides"),
    ("004_13427e315021f412.txt", "water helps prevent dehydration"),
    ("004_13427e315021f412.txt", "can also help prevent electrolyte imbalances"),
    ("001_64d34fb1b29bd439.txt", "even mere inactivity"),
    ("002_ff3d92e87014b7ae.txt", "If back spasms persist, are severe, or are accompanied by other concerning "
                                 "symptoms like numbness, tingling, or weakness"),
)

#: What ergo puts in quotation marks is a document's own words (cited, checked by has_quote); the rest of
#: each text is ergo's own (checked by copied()).
QUOTED = re.compile(r'"([^"]+)"')


def unquoted(text: str) -> str:
    """`text` without what it quotes: the part that must be in ergo's own words."""
    return QUOTED.sub(" / ", text)


def plan_texts(plan) -> list[str]:
    """Every text of a plan a person reads (plan list, start output, notifications, status)."""
    return [t for t in [plan.title, plan.summary, plan.warning, plan.skin_note, *plan.choices]
            + [t for step in plan.steps for t in (step.title, step.text, step.choice)]
            + [t for rule in plan.reminders.values() for t in (rule.why, rule.note)] if t]


def plan_quotes(plan) -> list[tuple[str, str]]:
    """(file, words) for everything a plan puts in quotation marks: a step's from its own document, the
    warning's from the documents its warning cites."""
    found = [(step.cite.source, q) for step in plan.steps for text in (step.text, step.choice) for q in QUOTED.findall(text)]
    warned = {w.source for w in plan.warning_sources}
    found += [(file, q) for q in QUOTED.findall(plan.warning) for file in sorted(warned)
              if q in " ".join(w.quote for w in plan.warning_sources if w.source == file)]
    loose = [q for text in [plan.title, plan.summary, plan.skin_note, *plan.choices] for q in QUOTED.findall(text)]
    found += [("(no document: quotes belong to a step or the warning)", q) for q in loose]
    return found


def words(text: str) -> list[str]:
    """The normalised words: lower case, letters, digits and apostrophes (a curly one made straight)."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def fingerprint(text: str) -> str:
    """A hash of the normalised words of `text` (so the index holds no words of the articles)."""
    return hashlib.sha256(" ".join(words(text)).encode()).hexdigest()[:20]


def _line(raw: str) -> tuple[str, bool]:
    stripped = raw.strip()
    return stripped.lstrip("\u2022").strip(), stripped.startswith("\u2022")


def is_heading(raw_line: str) -> bool:
    """A heading: a non-empty line of at most 80 characters (whitespace and a leading bullet stripped)
    that is bulleted or does not end in a full stop."""
    line, bulleted = _line(raw_line)
    return bool(line) and len(line) <= MAX_HEADING and (bulleted or not line.endswith("."))


def find_articles() -> Path | None:
    env = os.environ.get("ERGO_SEEDS_DIR")
    candidates = [Path(env)] if env else [folder / "shared" / "seeds" for folder in REPO.parents]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    return None


# ----------------------------------------------------------------------------- what ergo cites


def cited_quotes() -> list[tuple[str, str]]:
    """Every (file, quote) ergo's data files or the tests cite: plan steps and warnings, tips that carry
    a quote, the phrase a source title borrows, and TEST_QUOTES."""
    from ergo.plans.catalog import load_plans
    from ergo.tips import load_catalog, load_sources

    quotes = list(TEST_QUOTES)
    for plan in load_plans().values():
        quotes += [(c.source, c.quote) for c in [s.cite for s in plan.steps] + list(plan.warning_sources)]
        quotes += [(file, q) for file, q in plan_quotes(plan) if file in {s.cite.source for s in plan.steps}
                   | {w.source for w in plan.warning_sources}]
    for tips in load_catalog().values():
        quotes += [(t.source, t.quote) for t in tips if getattr(t, "quote", "")]
    for source in load_sources().values():
        if source.title != source.heading:
            quotes.append((source.file, source.title.split(": ", 1)[-1]))
    return sorted(set(quotes))


def ergo_texts() -> list[str]:
    """Every text of ergo's that must be in its own words: the tips and the plans' texts."""
    from ergo.plans.catalog import load_plans
    from ergo.tips import load_catalog, red_flag

    texts = [t.text for tips in load_catalog().values() for t in tips]
    for plan in load_plans().values():
        texts += [unquoted(t) for t in plan_texts(plan)]
    texts.append(unquoted(red_flag().text))
    return sorted({t for t in texts if t})


# ----------------------------------------------------------------------------- the two sources


class StaleIndex(AssertionError):
    pass


@dataclass
class Seeds:
    """The articles, or the index made from them; see the module docstring."""

    source: str
    _titles: dict[str, str]
    _headings: dict[str, list[str]]
    _texts: dict[str, str] | None = None  # the articles' text; None over the index
    #: index: file -> quote fingerprint -> number of the heading above it (None: checked, not in the file)
    _quotes: dict[str, dict[str, int | None]] = field(default_factory=dict)
    _own_words: frozenset[str] = frozenset()  # index: fingerprints of texts checked to copy nothing
    _grams: set[tuple[str, ...]] | None = None  # articles: every run of RUN words, once computed

    @property
    def files(self) -> set[str]:
        return set(self._titles)

    def title(self, file: str) -> str:
        return self._titles[file]

    def headings(self, file: str) -> list[str]:
        return list(self._headings.get(file, []))

    def _heading_above(self, file: str, quote: str) -> int | None:
        """The number of the last heading at or above the quote's first word (-1: none); None: no quote."""
        if file not in self._titles:
            return None
        if self._texts is not None:
            return _heading_above(self._texts[file], quote)
        known = self._quotes.get(file, {})
        if fingerprint(quote) not in known:
            hint = "" if (file, quote) in cited_quotes() else "add it to TEST_QUOTES in tests/seed_index.py and "
            raise StaleIndex(f"{file}: the index has not checked {quote!r}: {hint}run `python -m tests.seed_index` "
                             "with the articles present")
        return known[fingerprint(quote)]

    def has_quote(self, file: str, quote: str) -> bool:
        return self._heading_above(file, quote) is not None

    def quote_under(self, file: str, section: str, quote: str) -> bool:
        if not self.has_quote(file, quote):
            return False
        above = self._heading_above(file, quote)
        headings = self._headings.get(file, [])
        return section in headings and headings.index(section) <= above

    def copied(self, text: str) -> list[str]:
        if self._texts is not None:
            if self._grams is None:
                self._grams = set()
                for article in self._texts.values():
                    w = words(article)
                    self._grams.update(tuple(w[i:i + RUN]) for i in range(len(w) - RUN + 1))
            w = words(text)
            return [" ".join(w[i:i + RUN]) for i in range(len(w) - RUN + 1) if tuple(w[i:i + RUN]) in self._grams]
        if fingerprint(text) in self._own_words:
            return []
        return [f"(not checked against the articles: run `python -m tests.seed_index` with them present) {text!r}"]


def _heading_above(text: str, quote: str) -> int | None:
    target = words(quote)
    if not target:
        return None
    stream: list[tuple[str, int]] = []  # (word, number of the last heading at or above it)
    heading = -1
    for raw in text.splitlines():
        if is_heading(raw):
            heading += 1
        stream += [(w, heading) for w in words(raw)]
    flat = [w for w, _ in stream]
    for i in range(len(flat) - len(target) + 1):
        if flat[i:i + len(target)] == target:
            return stream[i][1]
    return None


def from_articles(folder: Path) -> Seeds:
    texts = {p.name: p.read_text("utf-8") for p in sorted(folder.glob("*.txt"))}
    titles = {name: text.splitlines()[0].strip() if text.strip() else "" for name, text in texts.items()}
    headings = {name: [_line(raw)[0] for raw in text.splitlines() if is_heading(raw)] for name, text in texts.items()}
    return Seeds(f"articles at {folder}", titles, headings, _texts=texts)


def from_index(path: Path = INDEX) -> Seeds:
    data = json.loads(path.read_text("utf-8"))
    files = data["files"]
    return Seeds(f"index {path.relative_to(REPO) if path.is_relative_to(REPO) else path}",
                 {n: f["title"] for n, f in files.items()}, {n: f["headings"] for n, f in files.items()},
                 _quotes={n: f["quotes"] for n, f in files.items()}, _own_words=frozenset(data["own_words"]))


def load() -> Seeds:
    """The articles if they are found, else the committed index."""
    folder = find_articles()
    return from_articles(folder) if folder else from_index()


def build_index(articles: Seeds) -> dict:
    """The index made from the articles (and from what ergo and its tests cite)."""
    assert articles._texts is not None
    files = {}
    for name in sorted(articles.files):
        quotes = {}
        for file, quote in cited_quotes():
            if file == name:
                quotes[fingerprint(quote)] = _heading_above(articles._texts[name], quote)
        files[name] = {"title": articles.title(name), "headings": articles.headings(name),
                       "quotes": dict(sorted(quotes.items()))}
    own = sorted({fingerprint(t) for t in ergo_texts() if not articles.copied(t)})
    return {
        "about": "Derived from the five seed articles by `python -m tests.seed_index` (tests/seed_index.py "
                 "says what each field is). No text of the articles: quotes and ergo's texts are hashes.",
        "files": files,
        "own_words": own,
    }


def dump(index: dict) -> str:
    return json.dumps(index, indent=1, ensure_ascii=False) + "\n"


def which() -> str:
    folder = find_articles()
    if folder:
        return f"tip sources: checked against the articles in {folder}"
    return f"tip sources: no articles found (../shared/seeds, ERGO_SEEDS_DIR); checked against the committed index {INDEX.relative_to(REPO)}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--which"]:
        print(which())
        return 0
    folder = find_articles()
    if folder is None:
        print("seed_index: the articles are not here (shared/seeds beside the repository, or ERGO_SEEDS_DIR)",
              file=sys.stderr)
        return 2
    text = dump(build_index(from_articles(folder)))
    if argv[:1] == ["--check"]:
        if INDEX.exists() and INDEX.read_text("utf-8") == text:
            print(f"seed_index: {INDEX.relative_to(REPO)} matches the articles in {folder}")
            return 0
        print(f"seed_index: {INDEX.relative_to(REPO)} is stale: run `python -m tests.seed_index`", file=sys.stderr)
        return 1
    INDEX.write_text(text, "utf-8")
    print(f"seed_index: wrote {INDEX.relative_to(REPO)} from the articles in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
