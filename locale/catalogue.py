"""The Spanish catalogue's upkeep, with polib (requirements-dev.txt), no GNU gettext needed:

    python locale/catalogue.py tidy             # the header: Spanish, two plural forms, not fuzzy
    python locale/catalogue.py merge PART.po…   # fill untranslated entries from translated parts
    python locale/catalogue.py compile          # each django.po -> django.mo (committed)

`make messages` runs makemessages (which needs GNU gettext) and then these three; see
docs/translation.md. Django reads only the compiled django.mo at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent / "es" / "LC_MESSAGES" / "django.po"
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _translated(entry: polib.POEntry) -> bool:
    if entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def tidy(catalogue: polib.POFile) -> None:
    catalogue.header = (
        "Spanish (US) translation of GVR Case Manager. Written by hand following the glossary\n"
        "in docs/translation.md; `make messages` updates it."
    )
    catalogue.metadata.update(
        {
            "Project-Id-Version": "GVR Case Manager",
            "Last-Translator": "GVR Case Manager contributors",
            "PO-Revision-Date": catalogue.metadata.get("POT-Creation-Date", ""),
            "Language": "es",
            "Language-Team": "Spanish",
            "Content-Type": "text/plain; charset=UTF-8",
            "Plural-Forms": PLURAL_FORMS,
        }
    )
    catalogue.metadata_is_fuzzy = False
    # Entries makemessages no longer finds in the code are history, not translations.
    for entry in [entry for entry in catalogue if entry.obsolete]:
        catalogue.remove(entry)


def merge(catalogue: polib.POFile, parts: list[Path]) -> list[str]:
    """Copy each part's translations into the catalogue's untranslated entries with the same
    context and msgid. Reported: what a part translates that the code no longer has, and a
    part's different text for an entry already translated (the catalogue's is kept)."""
    by_key = {_key(entry): entry for entry in catalogue}
    unused = []
    for path in parts:
        for source in polib.pofile(str(path)):
            if not _translated(source):
                continue
            target = by_key.get(_key(source))
            if target is None:
                unused.append(f"{path.name}: {source.msgid[:60]!r} is not in the code")
                continue
            if _translated(target):
                if (target.msgstr, target.msgstr_plural) != (source.msgstr, source.msgstr_plural):
                    unused.append(f"{path.name}: {source.msgid[:60]!r} keeps the catalogue's text")
                continue
            if target.msgid_plural:
                if not source.msgid_plural:
                    unused.append(f"{path.name}: {source.msgid[:60]!r} needs plural forms")
                    continue
                target.msgstr_plural = {0: source.msgstr_plural[0], 1: source.msgstr_plural[1]}
            else:
                target.msgstr = source.msgstr
            if "fuzzy" in target.flags:
                target.flags.remove("fuzzy")
    return unused


def untranslated(catalogue: polib.POFile) -> list[str]:
    return [entry.msgid for entry in catalogue if not entry.obsolete and not _translated(entry)]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"tidy", "merge", "compile"}:
        print(__doc__)
        return 2
    catalogue = polib.pofile(str(CATALOGUE), wrapwidth=79)
    command, arguments = argv[0], argv[1:]
    if command == "tidy":
        tidy(catalogue)
        catalogue.save()
    elif command == "merge":
        for line in merge(catalogue, [Path(argument) for argument in arguments]):
            print(line)
        catalogue.save()
    else:
        # Every language's catalogue (locale/en holds a few English spellings kept by hand).
        for path in sorted(CATALOGUE.parents[2].glob("*/LC_MESSAGES/django.po")):
            polib.pofile(str(path)).save_as_mofile(str(path.with_suffix(".mo")))
    missing = untranslated(catalogue)
    if missing:
        print(f"{len(missing)} entries have no Spanish yet, for example:")
        for msgid in missing[:10]:
            print(f"  {msgid[:76]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
