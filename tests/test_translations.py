"""Every word a person reads is marked for translation and has its Spanish (docs/translation.md).

1. Templates: every text node with letters, and every human-readable attribute, is inside
   `{% translate %}` or `{% blocktranslate %}`. Django's own lexer splits a template into
   text, variables, tags and comments; the text, with every variable and tag replaced by a
   placeholder, goes through Python's HTML parser, which tells text from markup, attributes and
   script. Nothing here needs GNU gettext.
2. Every msgid the code uses (templates, and gettext calls in the Python, found with ast) has a
   Spanish msgstr in locale/es/LC_MESSAGES/django.po that is not empty and not fuzzy (polib).
3. The committed django.mo, which Django reads at run time, says what django.po says.
4. The pages follow the person: a saved Spanish preference, else the switch or the browser.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.core import mail
from django.template import engines
from django.template.base import DebugLexer, TokenType
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from interventions.models import ReminderPreference
from interventions.services import reminders
from tests.factories import TEST_PASSWORD, EnrollmentFactory, ParticipantFactory

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
PYTHON_PACKAGES = ("gvr_site", "interventions", "metrics")

# Attributes a person reads or hears (a screen reader reads aria-label and alt; a browser shows
# title and placeholder; forms.js shows data-confirm in a dialog).
HUMAN_ATTRIBUTES = frozenset({"placeholder", "title", "aria-label", "alt", "data-confirm"})
# The allow-list: text that is not a word to translate. Only proper names belong here.
NOT_WORDS = (
    "GVR Case Manager",  # the product's name, the same in every language
    "CSV",  # a file format's name, the same in every language
)
# What these elements hold is code, not words: script and style, and the codes, file columns
# and keys a page shows as they are (<code>homicide</code>, <kbd>Ctrl</kbd>).
NOT_TEXT_ELEMENTS = frozenset({"script", "style", "code", "kbd", "samp"})
# Stands for a variable or a tag in the text given to the HTML parser: not a letter, so
# "{{ count }} · {{ name }}" has nothing to translate.
PLACEHOLDER = "\ue000"
TRANSLATE_TAGS = {"translate", "trans"}
BLOCK_TRANSLATE_TAGS = {"blocktranslate", "blocktrans"}
GETTEXT_FUNCTIONS = {
    # name: (index of the context argument or None, index of msgid, index of the plural or None)
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def template_files() -> list[Path]:
    """templates/ and every app's templates/ folder (HTML; the service worker script and text
    templates have no markup to parse)."""
    folders = [ROOT / "templates"] + [
        path
        for package in PYTHON_PACKAGES
        for path in (ROOT / package).rglob("templates")
        if path.is_dir()
    ]
    return sorted({path for folder in folders for path in folder.rglob("*.html")})


def python_files() -> list[Path]:
    return sorted(
        path
        for package in PYTHON_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _label(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# 1. Unmarked text in templates -------------------------------------------------------------


def _text_outside_translations(source: str) -> str:
    """The template as HTML, with every variable and tag a placeholder and every translated
    text, comment and `{% comment %}` block blank; newlines are kept so lines still match."""
    out: list[str] = []
    skipping_until: str | None = None
    for token in DebugLexer(source).tokenize():
        start, end = token.position
        raw = source[start:end]
        blank = "\n" * raw.count("\n")
        if skipping_until is not None:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == skipping_until:
                skipping_until = None
            out.append(blank)
            continue
        if token.token_type == TokenType.TEXT:
            out.append(raw)
        elif token.token_type == TokenType.COMMENT:
            out.append(blank)
        elif token.token_type == TokenType.VAR:
            out.append(PLACEHOLDER + blank)
        else:
            name = token.contents.split()[0] if token.contents else ""
            if name in BLOCK_TRANSLATE_TAGS:
                skipping_until = "end" + name
            elif name == "comment":
                skipping_until = "endcomment"
            out.append(PLACEHOLDER + blank)
    return "".join(out)


def _words(text: str) -> str:
    """The text with placeholders, allowed names and surrounding space removed; "" when what
    is left has no letter (punctuation, numbers, entities such as &nbsp; or &middot;)."""
    text = text.replace(PLACEHOLDER, " ")
    for name in NOT_WORDS:
        text = text.replace(name, " ")
    text = " ".join(text.split())
    return text if any(character.isalpha() for character in text) else ""


class _UnmarkedText(HTMLParser):
    def __init__(self, label: str) -> None:
        super().__init__(convert_charrefs=True)
        self.label = label
        self.problems: list[str] = []
        self.inside_code = 0

    def _report(self, line: int, text: str) -> None:
        self.problems.append(f"{self.label}:{line}: {text!r}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        attributes = dict(attrs)
        for name, value in attrs:
            readable = name in HUMAN_ATTRIBUTES or (
                name == "value"
                and tag in {"input", "button"}
                and (attributes.get("type") or "").lower() in {"submit", "button", "reset"}
            )
            if readable and value and (words := _words(value)):
                self._report(line, f"{name}={words}")
        if tag in NOT_TEXT_ELEMENTS:
            self.inside_code += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in NOT_TEXT_ELEMENTS and self.inside_code:
            self.inside_code -= 1

    def handle_data(self, data: str) -> None:
        if self.inside_code:
            return
        words = _words(data)
        if words:
            leading = data[: len(data) - len(data.lstrip())]
            self._report(self.getpos()[0] + leading.count("\n"), words)


def unmarked_template_text(paths: Iterable[Path]) -> list[str]:
    """Each text node or readable attribute with words outside a translation, as
    "file:line: 'text'"."""
    problems: list[str] = []
    for path in paths:
        parser = _UnmarkedText(_label(path))
        parser.feed(_text_outside_translations(path.read_text(encoding="utf-8")))
        parser.close()
        problems.extend(parser.problems)
    return problems


# 2. msgids without Spanish -----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    where: str
    msgid: str
    plural: str | None = None
    context: str | None = None


def _literal(value: object) -> str | None:
    return value if isinstance(value, str) else None


def template_messages(paths: Iterable[Path]) -> Iterator[Message]:
    """The msgids `{% translate %}` and `{% blocktranslate %}` look up, as Django builds them."""
    engine = engines["django"].engine
    for path in paths:
        label = _label(path)
        template = engine.from_string(path.read_text(encoding="utf-8"))
        for node in template.nodelist.get_nodes_by_type(TranslateNode):
            msgid = _literal(getattr(node.filter_expression.var, "literal", None))
            if msgid is None:
                continue  # {% translate variable %}: nothing fixed to look up
            context = node.message_context.var if node.message_context else None
            # Django looks a literal up with its % doubled (Variable.resolve), as makemessages
            # writes it.
            yield Message(label, msgid.replace("%", "%%"), None, _literal(context))
        for node in template.nodelist.get_nodes_by_type(BlockTranslateNode):
            singular, _ = node.render_token_list(node.singular)
            plural = node.render_token_list(node.plural)[0] if node.plural else None
            context = node.message_context.var if node.message_context else None
            yield Message(label, singular, plural, _literal(context))


def _gettext_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> gettext function, from `from django.utils.translation import … as …`."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for name in node.names:
                if name.name in GETTEXT_FUNCTIONS:
                    aliases[name.asname or name.name] = name.name
    return aliases


def python_messages(paths: Iterable[Path]) -> Iterator[Message]:
    for path in paths:
        label = _label(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=label)
        aliases = _gettext_aliases(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                aliases.get(func.id)
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute) and func.attr in GETTEXT_FUNCTIONS
                else None
            )
            if name is None:
                continue
            context_at, msgid_at, plural_at = GETTEXT_FUNCTIONS[name]

            def constant(index: int | None, call: ast.Call = node) -> str | None:
                if index is None or index >= len(call.args):
                    return None
                argument = call.args[index]
                return argument.value if isinstance(argument, ast.Constant) else None

            msgid = constant(msgid_at)
            if isinstance(msgid, str):
                yield Message(
                    f"{label}:{node.lineno}", msgid, constant(plural_at), constant(context_at)
                )


def _translated(entry: polib.POEntry) -> bool:
    if entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return len(entry.msgstr_plural) >= 2 and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def missing_spanish(messages: Iterable[Message], catalogue: polib.POFile) -> list[str]:
    entries = {(entry.msgctxt or "", entry.msgid): entry for entry in catalogue}
    problems = []
    for message in messages:
        entry = entries.get((message.context or "", message.msgid))
        if entry is None or not _translated(entry):
            state = "is not in the catalogue" if entry is None else "has no Spanish (or is fuzzy)"
            problems.append(f"{message.where}: {message.msgid[:80]!r} {state}")
        elif (message.plural or None) != (entry.msgid_plural or None):
            problems.append(f"{message.where}: {message.msgid[:80]!r} differs in its plural")
    return problems


# 3. The compiled catalogue -----------------------------------------------------------------


def _contents(catalogue: polib._BaseFile) -> dict[tuple[str, str], object]:
    return {
        (entry.msgctxt or "", entry.msgid): (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        for entry in catalogue
        if entry.msgid and not entry.obsolete and "fuzzy" not in entry.flags
    }


def compiled_differences(po_path: Path) -> list[str]:
    source = polib.pofile(str(po_path))
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    wanted = {key: value for key, value in _contents(source).items() if value}
    have = _contents(compiled)
    differences = [f"{key[1][:60]!r}: not compiled" for key in wanted.keys() - have.keys()]
    differences += [f"{key[1][:60]!r}: compiled but gone" for key in have.keys() - wanted.keys()]
    differences += [
        f"{key[1][:60]!r}: compiled text differs"
        for key in wanted.keys() & have.keys()
        if wanted[key] != have[key]
    ]
    if source.metadata.get("Plural-Forms") != compiled.metadata.get("Plural-Forms"):
        differences.append("Plural-Forms differs")
    return differences


# The tests ---------------------------------------------------------------------------------


def test_every_template_text_is_marked_for_translation() -> None:
    problems = unmarked_template_text(template_files())
    assert problems == [], "wrap in {% translate %} or {% blocktranslate %}:\n" + "\n".join(
        problems
    )


def test_every_message_has_its_spanish() -> None:
    catalogue = polib.pofile(str(CATALOGUE))
    messages = [
        *template_messages(template_files()),
        *python_messages(python_files()),
    ]
    assert len(messages) > 100  # the finders found the project's messages
    problems = missing_spanish(messages, catalogue)
    assert problems == [], "run `make messages` and translate:\n" + "\n".join(problems)


def test_the_compiled_catalogue_matches_the_source() -> None:
    catalogues = sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po"))
    assert CATALOGUE in catalogues
    for path in catalogues:
        assert compiled_differences(path) == [], f"{path}: run `make messages`"
    assert polib.pofile(str(CATALOGUE)).metadata["Plural-Forms"] == ("nplurals=2; plural=(n != 1);")


# The checks themselves find what they are for.


def test_the_template_check_names_file_line_and_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "{% load i18n %}<h1>{% translate 'Fine' %}</h1>\n"
        "<p>{% blocktranslate trimmed with n=1 %}Also\n fine {{ n }}{% endblocktranslate %}</p>\n"
        "{# Not shown #}{% comment %}Nor this{% endcomment %}<script>let words = 'code';</script>\n"
        "<code>a_column</code>, "
        "<p>{{ count }} · {{ name }} — 12 &middot; GVR Case Manager</p>\n"
        "<p>Forgotten</p><input type='text' placeholder=\"Search names\">\n"
        "<button aria-label=\"{% translate 'Close' %}\">&times;</button><img alt='A map'>\n"
        "<input type=submit value='Send it'>\n",
        encoding="utf-8",
    )
    parser = _UnmarkedText("page.html")
    parser.feed(_text_outside_translations(page.read_text(encoding="utf-8")))
    assert parser.problems == [
        "page.html:6: 'Forgotten'",
        "page.html:6: 'placeholder=Search names'",
        "page.html:7: 'alt=A map'",
        "page.html:8: 'value=Send it'",
    ]


def test_the_message_check_finds_python_and_template_messages(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "from django.utils.translation import gettext_lazy as _, ngettext, pgettext\n"
        "A = _('Your settings')\n"
        "B = ngettext('%(n)s apple', '%(n)s apples', 2)\n"
        "C = pgettext('login', 'Session')\n"
        "D = print('not a message')\n",
        encoding="utf-8",
    )
    found = [
        (message.msgid, message.plural, message.context) for message in python_messages([module])
    ]
    assert found == [
        ("Your settings", None, None),
        ("%(n)s apple", "%(n)s apples", None),
        ("Session", None, "login"),
    ]
    catalogue = polib.pofile(str(CATALOGUE))
    problems = missing_spanish(python_messages([module]), catalogue)
    assert len(problems) == 2 and "apple" in problems[0] and "Session" in problems[1]


def test_the_compiled_check_sees_a_stale_mo(tmp_path: Path) -> None:
    po_path = tmp_path / "django.po"
    source = polib.pofile(str(CATALOGUE))
    source.save(str(po_path))
    source.save_as_mofile(str(po_path.with_suffix(".mo")))
    assert compiled_differences(po_path) == []
    source.append(polib.POEntry(msgid="A new message", msgstr="Un mensaje nuevo"))
    source.save(str(po_path))
    assert compiled_differences(po_path) == ["'A new message': not compiled"]


# 4. The pages, the dates and the reminders in the person's language -------------------------


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """A request leaves its language active in the thread (Django's LocaleMiddleware does not
    reset it): after a Spanish page here, later tests must not run in Spanish."""
    yield
    translation.deactivate()


@pytest.mark.django_db
def test_logging_in_speaks_the_saved_language_at_once(worker) -> None:
    _prefers(worker, "es")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    answer = client.post(
        reverse("login"), {"username": worker.username, "password": TEST_PASSWORD}, follow=True
    )
    page = answer.content.decode()
    assert '<html lang="es">' in page and "Mis casos" in page


def _prefers(user, language: str) -> None:
    reminders.save_language(user=user, language=language)


@pytest.mark.django_db
def test_a_spanish_speaking_worker_gets_spanish_pages(worker) -> None:
    _prefers(worker, "es")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(worker)
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="es">' in page
    assert "Mis casos" in page and "Registrar una sesión" in page and "Cerrar sesión" in page
    assert ">My caseload</a>" not in page
    settings_page = client.get(reverse("reminder_settings")).content.decode()
    assert "Su configuración" in settings_page and "Horas de silencio" in settings_page


@pytest.mark.django_db
def test_an_english_speaking_worker_gets_english_whatever_the_browser(worker) -> None:
    _prefers(worker, "en")
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(worker)
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in page
    assert "My caseload" in page and "Mis casos" not in page


@pytest.mark.django_db
def test_signed_out_the_browser_and_then_the_switch_choose() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="es">' in page and "Iniciar sesión" in page
    assert 'id="language-switch"' in page
    answer = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert answer.status_code == 302 and answer["Location"] == reverse("login")
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in page and "This system holds confidential records" in page


@pytest.mark.django_db
def test_the_switch_saves_a_signed_in_users_choice(worker) -> None:
    client = Client()
    client.force_login(worker)
    client.post(reverse("set_language"), {"language": "es", "next": reverse("home")})
    assert ReminderPreference.objects.get(user=worker).language == "es"
    assert "Mis casos" in client.get(reverse("home")).content.decode()
    # The next sign-in, on another device with an English browser, is in Spanish too.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(worker)
    assert '<html lang="es">' in other.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_the_settings_page_saves_the_language(worker) -> None:
    client = Client()
    client.force_login(worker)
    answer = client.post(
        reverse("reminder_settings"),
        {"language": "es", "response_tasks": "on", "morning_digest": "on", "by_email": "on"},
        follow=True,
    )
    page = answer.content.decode()
    assert "Se guardó su configuración." in page and '<html lang="es">' in page
    assert ReminderPreference.objects.get(user=worker).language == "es"


def test_dates_have_one_format_in_each_language() -> None:
    moment = datetime(2026, 11, 27, 8, 30)
    with translation.override("en"):
        assert formats.date_format(moment, "DATETIME_FORMAT") == "Fri 27 Nov 2026, 8:30 am"
        assert formats.time_format(moment.replace(hour=20).time()) == "8:30 pm"
        assert formats.date_format(moment.date()) == "Fri 27 Nov 2026"
    with translation.override("es"):
        assert formats.date_format(moment, "DATETIME_FORMAT") == "vie 27 nov 2026, 8:30 a. m."
        assert formats.date_format(moment.date()) == "vie 27 nov 2026"
        # US Spanish numbers: a decimal point, as in the forms' number boxes.
        assert formats.number_format(1234.5, 1, force_grouping=True) == "1,234.5"
        # A date box sends ISO; it reads the same in Spanish.
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"


@pytest.mark.django_db
def test_a_reminder_is_in_the_recipients_language_and_names_nobody(org_a, settings) -> None:
    settings.GVR_TEXT_BACKEND = "interventions.text_messages.MemoryBackend"
    settings.GVR_DIGEST_HOUR = 7
    person = ParticipantFactory(
        organization=org_a.organization, first_name="Zacarias", last_name="Quintanilla"
    )
    EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)
    type(person).objects.filter(pk=person.pk).update(created_at=timezone.now() - timedelta(days=30))
    _prefers(org_a.worker, "es")
    morning = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    with translation.override("en"):
        assert reminders.send_digest(org_a.worker, now=morning + timedelta(hours=8))
        assert translation.get_language() == "en"  # the recipient's language ended with it
    [email] = mail.outbox
    assert email.subject.startswith("GVR Case Manager: Hoy: 0 seguimientos pendientes")
    assert "Buenos días." in email.body and "sin contacto reciente: 1" in email.body
    assert "Zacarias" not in email.body and "Quintanilla" not in email.body


def test_the_switch_is_a_csrf_protected_post() -> None:
    source = (ROOT / "templates" / "includes" / "language_switch.html").read_text()
    assert 'method="post"' in source and "{% csrf_token %}" in source
    assert re.search(r"url 'set_language'", source)


@pytest.mark.django_db
def test_the_demo_has_a_spanish_speaking_worker_and_prints_her_login() -> None:
    from interventions.demo import case as demo

    organizations, _ = demo._seed_organizations(demo._seed_areas())
    _, logins = demo._seed_staff(organizations)
    _, again = demo._seed_staff(organizations)  # idempotent: the same logins, one preference
    assert again == logins
    [spanish] = [login for login in logins if login.username == demo.SPANISH_SPEAKING_WORKER]
    assert spanish.role == "Outreach worker (Spanish)"
    preference = ReminderPreference.objects.get(user__username=demo.SPANISH_SPEAKING_WORKER)
    assert preference.language == "es"


@pytest.mark.django_db
def test_an_invitation_in_spanish_sets_the_language_and_its_page_speaks_it(org_a) -> None:
    from interventions.services import staff as staff_services

    manager = Client()
    manager.force_login(org_a.manager)
    answer = manager.post(
        reverse("invite_staff"),
        {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "email": "ana.ruiz@example.org",
            "organization": org_a.organization.pk,
            "role": "outreach_worker",
            "language": "es",
        },
    )
    assert answer.status_code == 302
    preference = ReminderPreference.objects.get(user__email="ana.ruiz@example.org")
    assert preference.language == "es"
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(staff_services.invitation_path(preference.user))
    text = page.content.decode()
    assert '<html lang="es">' in text and "Cree su contraseña" in text


@pytest.mark.django_db
def test_the_invitation_email_speaks_the_chosen_language_whoever_sends_it(org_a) -> None:
    """The e-mail goes out from the outbox (a Celery worker with no request and no active
    language): it follows the language saved with the invitation, not the sender's."""
    from interventions.services import staff as staff_services

    invited = {}
    for email, language in (("lupe@example.org", "es"), ("sam@example.org", "")):
        invited[language] = staff_services.invite_staff_member(
            invited_by=org_a.manager,
            first_name="Lupe" if language else "Sam",
            last_name="Test",
            email=email,
            organization=org_a.organization,
            role="outreach_worker",
            language=language,
        )
    with translation.override("en"):
        assert staff_services.send_staff_invitation(invited["es"].pk)
    with translation.override("es"):
        assert staff_services.send_staff_invitation(invited[""].pk)
    spanish, english = mail.outbox[-2:]
    assert spanish.subject == "GVR Case Manager: cree su contraseña"
    assert spanish.body.startswith("Hola, Lupe:") and "lupe@example.org" in spanish.body
    assert english.subject == "GVR Case Manager: set your password"
    assert english.body.startswith("Hello Sam,")
