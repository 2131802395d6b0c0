"""Update ergo's translation catalogs: `python tools/catalogs.py` (docs/languages.md).

Extracts every message into ergo/locale/ergo.pot, then merges it into each
ergo/locale/<lang>/LC_MESSAGES/ergo.po (Babel: a new message arrives untranslated,
a changed one fuzzy; both stay English until translated, and tests/test_i18n.py fails
until they are). Two sources of messages:

* Python strings in `_()`, `gettext()` and `ngettext()` (Babel's Python extractor);
* the data a person reads away from the terminal, from TOML (the extractor below):
  every tip text, the warning signs, every plan's title, summary, step titles, texts and
  "ergo's choice" labels, its cautions and notes, and the kinds' default notification
  titles (ergo.config.model's defaults).

`python tools/catalogs.py --init LANG` starts a catalog for a new language.
Citations (document titles, section headings, the verbatim quotes) are not extracted:
they name the English documents and stay as they are.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "ergo" / "locale"
POT = LOCALE / "ergo.pot"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
# The kinds' default titles (ergo/config/model.py); tests/test_i18n.py checks this list against the model.
KIND_TITLES = ("Posture check", "Drink some water", "Stretch break", "Time to move", "Breathe",
               "Check your workspace", "Core strength")

PLAN_FIELDS = ("title", "summary", "own_caution", "disclaimer", "skin_note")
STEP_FIELDS = ("title", "text", "choice")
RULE_FIELDS = ("why", "note")


def toml_messages() -> list[tuple[str, str]]:
    """(message, where) for every translatable string in the shipped TOML data, in file order."""
    out: list[tuple[str, str]] = []
    tips = ROOT / "ergo" / "tips" / "catalog.toml"
    for tip in tomllib.loads(tips.read_text("utf-8"))["tip"]:
        out.append((tip["text"], f"ergo/tips/catalog.toml:{tip['id']}"))
    sources = tomllib.loads((ROOT / "ergo" / "tips" / "sources.toml").read_text("utf-8"))
    out.append((sources["red_flag"]["text"], "ergo/tips/sources.toml:red_flag"))
    for path in sorted((ROOT / "ergo" / "plans").glob("*.toml")):
        plan = tomllib.loads(path.read_text("utf-8"))
        where = f"ergo/plans/{path.name}"
        out += [(plan[f], f"{where}:{f}") for f in PLAN_FIELDS if plan.get(f)]
        out += [(choice, f"{where}:choices") for choice in plan.get("choices", ())]
        for kind, rule in plan.get("reminders", {}).items():
            out += [(rule[f], f"{where}:reminders.{kind}.{f}") for f in RULE_FIELDS if rule.get(f)]
        for step in plan.get("step", ()):
            out += [(step[f], f"{where}:{step['id']}.{f}") for f in STEP_FIELDS if step.get(f)]
    out += [(title, "ergo/config/model.py:title") for title in KIND_TITLES]
    return out


def template():
    """The whole template catalog: Python strings, then the TOML data."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="ergo", domain="ergo", msgid_bugs_address="", charset="utf-8")
    method_map = [("ergo/**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        if filename.startswith(("tests", "tools", "benchmarks", "build")):
            continue
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context,
                    flags=("python-format",) if isinstance(message, tuple) and "%(" in message[0] else ())
    for message, where in toml_messages():
        path, _, key = where.partition(":")
        existing = catalog.get(message)
        if existing is not None:
            existing.locations.append((path, 0))
            existing.auto_comments.append(key)
        else:
            catalog.add(message, locations=[(path, 0)], auto_comments=[key])
    return catalog


def main(argv: list[str] | None = None) -> int:
    from babel.messages.pofile import read_po, write_po

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", metavar="LANG", help="start a catalog for a new language (de, pt_BR, ...)")
    args = parser.parse_args(argv)
    pot = template()
    with POT.open("wb") as out:
        write_po(out, pot, width=100, omit_header=False, include_lineno=False)
    languages = sorted(p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/ergo.po"))
    if args.init:
        languages.append(args.init)
    for lang in sorted(set(languages)):
        po = LOCALE / lang / "LC_MESSAGES" / "ergo.po"
        if po.exists():
            with po.open("rb") as source:
                catalog = read_po(source, locale=lang, domain="ergo")
            catalog.update(pot, no_fuzzy_matching=True)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=lang, domain="ergo", project="ergo", charset="utf-8")
            catalog.update(pot, no_fuzzy_matching=True)
            po.parent.mkdir(parents=True, exist_ok=True)
        catalog.obsolete.clear()  # a message that left the sources leaves the catalogs
        with po.open("wb") as out:
            write_po(out, catalog, width=100, include_lineno=False, ignore_obsolete=True)
        missing = sum(1 for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy))
        print(f"{lang}: {len(catalog) - 1} messages, {missing} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
