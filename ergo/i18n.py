"""Which language ergo speaks, and its words in it (GNU gettext catalogs, domain `ergo`).

The language comes from the `language` setting; "auto" (the default) reads
LANGUAGE, LC_ALL, LC_MESSAGES and LANG in that order like any GNU program (the
first one set wins; LANGUAGE may list several, "de:fr"; "C" and "POSIX" mean
English). A message with no translation stays English.

The catalogs are ergo/locale/<lang>/LC_MESSAGES/ergo.po (Babel manages them:
`python tools/catalogs.py`, docs/languages.md). A built wheel carries only the
compiled ergo.mo of each one (setup.py compiles them). Run from a checkout
or an editable install, where only the .po files are, they are compiled on first
use into the user cache directory (platformdirs; one directory per checkout) with
Babel, again whenever a .po file is newer; without Babel, ergo stays English.

Nothing here costs the light commands anything: this module imports only `os`
at load; gettext, Babel and the catalog are loaded the first time a message is
translated into a language other than English.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing itself costs the light commands 3 ms: only a type checker reads it
if TYPE_CHECKING:
    from collections.abc import Callable  # 1.5 ms at import for English `ergo status`: only a checker reads it
    from typing import Any

DOMAIN = "ergo"
AUTO = "auto"
ENGLISH = "en"
ENV_ORDER = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current = AUTO
_translations: dict[tuple[str, ...], Any] = {}


def locale_dir() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")


def shipped() -> tuple[str, ...]:
    """The languages ergo has a catalog for (directory names: "de", "pt_BR"), sorted."""
    try:
        names = os.listdir(locale_dir())
    except OSError:
        return ()
    return tuple(sorted(n for n in names if os.path.isfile(os.path.join(locale_dir(), n, "LC_MESSAGES", DOMAIN + ".po"))
                        or os.path.isfile(os.path.join(locale_dir(), n, "LC_MESSAGES", DOMAIN + ".mo"))))


def _bare(code: str) -> str:
    """de_DE.UTF-8@euro -> de_DE; pt-BR -> pt_BR."""
    return code.split(".", 1)[0].split("@", 1)[0].replace("-", "_").strip()


def _expand(code: str) -> list[str]:
    """de_DE -> de_DE, de (a regional variant falls back to its language's catalog)."""
    code = _bare(code)
    if not code:
        return []
    base = code.split("_", 1)[0]
    return [code, base] if base != code else [code]


def requested(setting: str = AUTO, environ: Any = None) -> tuple[str, ...]:
    """The languages asked for, best first; () means English (C, POSIX, en, or nothing set)."""
    if setting and setting != AUTO:
        codes = [setting]
    else:
        env = os.environ if environ is None else environ
        value = next((env[name] for name in ENV_ORDER if env.get(name)), "")
        codes = value.split(":")
        # GNU: LANGUAGE is ignored when the locale itself is C/POSIX (LC_ALL or LANG).
        locale_value = next((env[name] for name in ENV_ORDER[1:] if env.get(name)), "")
        if env.get("LANGUAGE") and _bare(locale_value) in ("C", "POSIX"):
            codes = []
    out: list[str] = []
    for code in codes:
        if _bare(code) in ("C", "POSIX"):
            break  # GNU: C stops the list, and means the untranslated messages
        for each in _expand(code):
            if each not in out:
                out.append(each)
    # English before any catalog ends the search: "en:de" is English.
    if any(c == ENGLISH or c.startswith(ENGLISH + "_") for c in out):
        out = out[:next(i for i, c in enumerate(out) if c == ENGLISH or c.startswith(ENGLISH + "_"))]
    return tuple(out)


def for_client(daemon_language: Any) -> str:
    """The setting a client (the CLI, the tray, waybar) shows its text in, from the `language` value the
    daemon's status carries: the config's `language` key when it is set (not "auto"), otherwise "auto",
    which reads the environment of the process that shows the text (not the daemon's). A value that is
    not a plain language code (an older daemon sends none; a broken one anything) counts as "auto"."""
    if isinstance(daemon_language, str) and 0 < len(daemon_language) <= 20 and daemon_language != AUTO \
            and daemon_language.replace("_", "").replace("-", "").isalnum() and daemon_language.isascii():
        return daemon_language
    return AUTO


def check_setting(value: str) -> str:
    """The `language` key: "auto", "en", or a language ergo ships (a region falls back: de_AT -> de).
    A bad value is one line (the config's validators show it)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    code = _bare(value)
    if value == AUTO or code == ENGLISH or code.startswith(ENGLISH + "_"):
        return value
    ours = shipped()
    if code and any(each in ours for each in _expand(code)):
        return code
    raise ValueError(f"{value!r} is not a language ergo speaks (auto, en, {', '.join(ours)})")


def use(setting: str) -> None:
    """Set the process's language from the `language` setting (the daemon, at every (re)load)."""
    global _current
    _current = setting or AUTO


def _compiled_dir(languages: tuple[str, ...]) -> str | None:
    """Where the .mo files of `languages` are: beside the .po (a wheel), or compiled into the cache now."""
    root = locale_dir()
    need = [lang for lang in languages if os.path.isfile(os.path.join(root, lang, "LC_MESSAGES", DOMAIN + ".po"))]
    fresh = all(_newer(os.path.join(root, lang, "LC_MESSAGES", DOMAIN + ".mo"),
                       os.path.join(root, lang, "LC_MESSAGES", DOMAIN + ".po")) for lang in need)
    if fresh:
        return root
    try:
        import platformdirs

        # one folder per installation: two checkouts (or versions) of ergo must not take each other's catalogs
        import zlib

        cache = os.path.join(platformdirs.user_cache_dir("ergo", appauthor=False), "locale",
                             format(zlib.crc32(os.fsencode(root)), "08x"))
        for lang in need:
            compile_po(os.path.join(root, lang, "LC_MESSAGES", DOMAIN + ".po"),
                       os.path.join(cache, lang, "LC_MESSAGES", DOMAIN + ".mo"), only_if_stale=True)
    except (ImportError, OSError) as error:  # no Babel (a checkout without the test extra), or no cache dir
        import logging

        logging.getLogger("ergo").debug("translations unavailable (%s): English", error)
        return None
    return cache


def _newer(target: str, source: str) -> bool:
    try:
        return os.stat(target).st_mtime >= os.stat(source).st_mtime
    except OSError:
        return False


def compile_po(po: str, mo: str, only_if_stale: bool = False) -> None:
    """Compile one catalog with Babel (the build, and checkouts on first use); fuzzy entries are left out."""
    if only_if_stale and _newer(mo, po):
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as source:
        catalog = read_po(source, domain=DOMAIN)
    os.makedirs(os.path.dirname(mo), exist_ok=True)
    partial = f"{mo}.{os.getpid()}.tmp"
    with open(partial, "wb") as target:
        write_mo(target, catalog)
    os.replace(partial, mo)  # two processes compiling at once: each file whole


class _English:
    """English, the messages as written: what gettext.NullTranslations does, without importing gettext
    (English `ergo status` and friends pay nothing for translation)."""

    @staticmethod
    def gettext(message: str) -> str:
        return message

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def translation(setting: str | None = None) -> Any:
    """A gettext translations object for the setting (None: the process's, see use()); English: the
    messages as written (gettext is not even imported)."""
    languages = requested(_current if setting is None else setting)
    if not languages:
        return _English
    found = _translations.get(languages)
    if found is not None:
        return found
    import gettext

    directory = _compiled_dir(languages) if languages else None
    found = (gettext.translation(DOMAIN, directory, languages=list(languages), fallback=True)
             if directory else gettext.NullTranslations())
    _translations[languages] = found
    return found


def gettext(message: str) -> str:
    return translation().gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    return translation().ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined (a constant); translate it where it is shown."""
    return message


def translator(setting: str | None = None) -> Callable[[str], str]:
    """The gettext function for one setting ("auto", "de", ...), for data read from TOML."""
    found = translation(setting)
    return lambda message: found.gettext(message) if message else message


# Numbers, dates and times in the language's own format (Babel's CLDR data). English keeps the
# formats ergo always printed (24-hour "14:05", "94.8%"), so these cost English nothing; any other
# language loads Babel on first use. A regional setting keeps its region's formats (de_AT, pt_BR).

def format_locale(setting: str | None = None) -> str | None:
    """The Babel locale for formats: the most specific requested code of the language ergo speaks, or
    None for English (no catalog for any requested language, C/POSIX, en)."""
    languages = requested(_current if setting is None else setting)
    if languages not in _format_locales:  # once per language asked for: a report formats some 70 values
        _format_locales[languages] = _format_locale(languages)
    return _format_locales[languages]


_format_locales: dict[tuple[str, ...], str | None] = {}


def _format_locale(languages: tuple[str, ...]) -> str | None:
    ours = shipped()
    spoken = next((lang for lang in languages if lang in ours), None)
    if spoken is None:
        return None
    base = spoken.split("_", 1)[0]
    try:
        from babel import Locale, UnknownLocaleError
    except ImportError:
        return spoken
    for lang in languages:  # languages lists the specific code first: de_AT, de
        if lang.split("_", 1)[0] == base:
            try:
                Locale.parse(lang)
            except (ValueError, UnknownLocaleError):
                continue
            return lang
    return spoken


def format_time(value: Any, setting: str | None = None) -> str:
    """A clock time (datetime or time): "14:05" in English, the locale's short time otherwise."""
    code = format_locale(setting)
    if code is None:
        return value.strftime("%H:%M")
    from babel.dates import format_time as babel_time

    return babel_time(value, format="short", locale=code)


def format_date(value: Any, english: str = "%a %d %b", width: str = "medium", setting: str | None = None) -> str:
    """A date: `english` (strftime) in English, Babel's `width` ("short", "medium", "long", "full", or
    a CLDR skeleton such as "EEEdMMM") otherwise."""
    code = format_locale(setting)
    if code is None:
        return value.strftime(english)
    if width in ("short", "medium", "long", "full"):
        from babel.dates import format_date as babel_date

        return babel_date(value, format=width, locale=code)
    from babel.dates import format_skeleton

    return format_skeleton(width, value, locale=code)


def format_decimal(value: float, digits: int = 0, setting: str | None = None) -> str:
    """A number with `digits` decimals: "1234.5" in English, "1234,5" in German (no grouping either way)."""
    code = format_locale(setting)
    if code is None:
        return f"{value:.{digits}f}"
    from babel.numbers import format_decimal as babel_decimal

    return babel_decimal(value, format="0" + ("." + "0" * digits if digits else ""), locale=code)


def format_percent(fraction: float, digits: int = 0, setting: str | None = None) -> str:
    """A share (0.948): "94.8%" in English, "94,8 %" in German, "94,8 %" in French."""
    code = format_locale(setting)
    if code is None:
        return f"{fraction * 100:.{digits}f}%"
    from babel import Locale
    from babel.numbers import format_percent as babel_percent

    pattern = Locale.parse(code).percent_formats[None].pattern  # "#,##0 %": the locale's spacing and sign
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1) if "0" in pattern else pattern
    return babel_percent(fraction, format=pattern, locale=code)
