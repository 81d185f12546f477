"""The Django admin: every registered model's pages render, no page makes a query per row, the
actions work, and every write with rules goes through services.py."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import tests.factories as factories
from interventions.models import (
    Area,
    Enrollment,
    EnrollmentStatusChange,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    Session,
    SessionParticipant,
)
from interventions.services import case as services
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)
from tests.queries import assert_fixed_queries

pytestmark = pytest.mark.django_db


def admin_url(model: type[models.Model], view: str, *args: object) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


class _FormReader(HTMLParser):
    """The values a browser would submit for the admin's main form, as the page drew them."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self._add(name, a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_data(client: Client, url: str, **changes: object) -> dict[str, object]:
    """The admin form at `url` as drawn, with `changes` applied (lists for multi-selects)."""
    response = client.get(url)
    assert response.status_code == 200
    reader = _FormReader()
    reader.feed(response.content.decode())
    data: dict[str, object] = {
        name: values if len(values) > 1 else (values[0] if values else "")
        for name, values in reader.data.items()
        # A multi-select with nothing chosen sends nothing.
        if values and not name.startswith(("csrfmiddlewaretoken", "action", "_selected_action"))
    }
    data.update({name: "" if value is None else value for name, value in changes.items()})
    return data


def errors_of(response) -> str:
    assert response.status_code == 200, "expected the form again, with its errors"
    context = response.context
    messages = [str(e) for e in context["adminform"].form.non_field_errors()]
    messages += [str(e) for errors in context["adminform"].form.errors.values() for e in errors]
    return " ".join(messages)


# Sample rows: one of each registered model, so each change page can be opened ------------------


@pytest.fixture
def sample_rows(org_a, city_admin) -> None:
    participant = ParticipantFactory(organization=org_a.organization, area=AreaFactory())
    enrollment = services.enroll_participant(
        participant=participant, program=org_a.program, by=org_a.manager, worker=org_a.worker
    )
    services.log_session(
        worker=org_a.worker,
        organization=org_a.organization,
        participants=[participant],
        kind=Session.Kind.MENTORING,
        occurred_at=timezone.now() - timedelta(hours=2),
        duration_minutes=45,
        location=Session.Location.STREET,
        program=org_a.program,
    )
    services.make_referral(
        participant=participant,
        made_by=org_a.worker,
        organization=org_a.organization,
        service_category=Referral.ServiceCategory.HOUSING,
        outside_provider="Kern County Housing Authority",
    )
    assert EnrollmentStatusChange.objects.filter(enrollment=enrollment).exists()
    Group.objects.create(name="Program admins")


REGISTERED = sorted(
    admin.site._registry.items(),
    key=lambda item: item[0]._meta.label,
)
REGISTERED_IDS = [model._meta.label for model, _ in REGISTERED]


def _minimal_value(field: models.Field) -> object:
    if field.is_relation:
        return any_row(field.related_model)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.DateTimeField):
        return timezone.now() - timedelta(days=1)
    # Periods (months, years) start on the first: 1 January of last year fits them all.
    last_year = timezone.localdate().year - 1
    if isinstance(field, models.DateField):
        return date(last_year, 1, 1)
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return last_year if "year" in field.name else 1
    if isinstance(field, models.GenericIPAddressField):
        return "192.0.2.1"
    return "sample"


def any_row(model: type[models.Model]) -> models.Model | None:
    """A row of `model`: an existing one, else from its factory, else the simplest row its
    required fields allow (so a newly registered model is covered without extra work)."""
    row = model._default_manager.order_by("pk").first()
    if row is not None:
        return row
    factory = getattr(factories, f"{model.__name__}Factory", None)
    if factory is not None:
        return factory()
    values = {
        field.name: _minimal_value(field)
        for field in model._meta.concrete_fields
        if not (field.primary_key or field.null or field.blank or field.has_default())
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    }
    try:
        with transaction.atomic():
            return model._default_manager.create(**values)
    except (IntegrityError, ValueError, TypeError):
        return None


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=REGISTERED_IDS)
def test_every_admin_page_renders_for_a_superuser(
    sample_rows, admin_client_city, model, model_admin
) -> None:
    response = admin_client_city.get(admin_url(model, "changelist"))
    assert response.status_code == 200

    response = admin_client_city.get(admin_url(model, "add"))
    # A read-only history refuses the add page; every other model draws it.
    expected = 200 if model_admin.has_add_permission(response.wsgi_request) else 403
    assert response.status_code == expected

    row = any_row(model)
    if row is None:
        pytest.fail(f"No {model._meta.label} row: add a factory for it to tests/factories.py")
    response = admin_client_city.get(admin_url(model, "change", row.pk))
    assert response.status_code == 200


def test_the_case_models_are_all_registered() -> None:
    for model in (
        Area,
        PartnerOrganization,
        Membership,
        Program,
        Participant,
        Enrollment,
        EnrollmentStatusChange,
        Session,
        Referral,
    ):
        assert model in admin.site._registry, model


def test_the_admin_is_for_staff_only(worker_client, client) -> None:
    for visitor in (worker_client, client):
        response = visitor.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        response = visitor.get(admin_url(Participant, "changelist"))
        assert response.status_code == 302


# No query per row ----------------------------------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured.captured_queries)


def _bulk_participants(organizations: list, areas: list, rows: int, prefix: str) -> None:
    today = timezone.localdate()
    Participant.objects.bulk_create(
        Participant(
            organization=organizations[n % len(organizations)],
            area=areas[n % len(areas)],
            participant_code=f"{prefix}-{n:05d}",
            first_name=f"First{n}",
            last_name=f"Last{n:05d}",
            identified_on=today - timedelta(days=n % 300),
        )
        for n in range(rows)
    )


def test_participant_changelist_query_count_is_exact_as_rows_organisations_and_areas_grow(
    admin_client_city,
) -> None:
    organization, area = PartnerOrganizationFactory(), AreaFactory()
    _bulk_participants([organization], [area], 5, "BULK")
    url = admin_url(Participant, "changelist")

    def grow() -> None:
        _bulk_participants(
            PartnerOrganizationFactory.create_batch(6), AreaFactory.create_batch(6), 500, "MORE"
        )

    pages = [
        lambda: admin_client_city.get(url),
        # A search and a filter too.
        lambda: admin_client_city.get(f"{url}?q=Last&organization__id__exact={organization.pk}"),
    ]
    assert_fixed_queries(pages, grow)
    assert b"BULK-00000" in admin_client_city.get(url, {"q": "BULK-00000"}).content


def _participants_with_records(org, n: int) -> list[Participant]:
    people = []
    for _ in range(n):
        person = ParticipantFactory(organization=org.organization, area=AreaFactory())
        EnrollmentFactory(participant=person, program=org.program, assigned_worker=org.worker)
        SessionFactory(
            organization=org.organization,
            program=org.program,
            worker=org.worker,
            participants=[person],
        )
        ReferralFactory(participant=person, made_by=org.worker)
        people.append(person)
    return people


CASE_MODELS = [Participant, Enrollment, Session, Referral, Membership, Program, Area]


@pytest.mark.parametrize("model", CASE_MODELS, ids=lambda m: m.__name__)
def test_changelists_and_exports_cost_the_same_for_2_or_20_rows(
    org_a, admin_client_city, model
) -> None:
    _participants_with_records(org_a, 2)
    url = admin_url(model, "changelist")

    def grow() -> None:
        _participants_with_records(org_a, 18)
        for _ in range(18):
            MembershipFactory(organization=PartnerOrganizationFactory())
            ProgramFactory(organization=org_a.organization, area=AreaFactory())

    def export() -> object:
        # Every row selected, as ticking "select all" does: the export grows with the table.
        ids = list(model.objects.values_list("pk", flat=True))
        return admin_client_city.post(url, {"action": "export_as_csv", "_selected_action": ids})

    assert_fixed_queries([lambda: admin_client_city.get(url), export], grow)


def test_status_history_and_session_changelists_cost_the_same_for_2_or_20_rows(
    org_a, admin_client_city
) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            person = ParticipantFactory(organization=org_a.organization)
            services.enroll_participant(participant=person, program=org_a.program, by=None)
            SessionFactory(
                organization=org_a.organization, worker=org_a.worker, participants=[person]
            )

    urls = [admin_url(EnrollmentStatusChange, "changelist"), admin_url(Session, "changelist")]
    add(2)
    few = [count_queries(admin_client_city, url) for url in urls]
    add(18)
    assert [count_queries(admin_client_city, url) for url in urls] == few


def test_participant_change_page_inlines_cost_the_same_for_1_or_10_records(
    org_a, admin_client_city
) -> None:
    person = ParticipantFactory(organization=org_a.organization)

    def add_records(n: int) -> None:
        for _ in range(n):
            program = ProgramFactory(organization=org_a.organization)
            EnrollmentFactory(participant=person, program=program, assigned_worker=org_a.worker)
            SessionFactory(
                organization=org_a.organization, worker=UserFactory(), participants=[person]
            )
            ReferralFactory(
                participant=person,
                made_by=UserFactory(),
                outside_provider="",
                to_organization=PartnerOrganizationFactory(),
            )

    url = admin_url(Participant, "change", person.pk)
    add_records(1)
    few = count_queries(admin_client_city, url)
    add_records(9)
    assert count_queries(admin_client_city, url) == few


def test_organisation_change_page_inlines_cost_the_same_for_2_or_20_rows(
    org_a, admin_client_city
) -> None:
    url = admin_url(PartnerOrganization, "change", org_a.organization.pk)
    ProgramFactory(organization=org_a.organization, area=AreaFactory())
    few = count_queries(admin_client_city, url)
    for _ in range(18):
        MembershipFactory(organization=org_a.organization)
        ProgramFactory(organization=org_a.organization, area=AreaFactory())
    assert count_queries(admin_client_city, url) == few


def test_organisation_inlines_save_memberships_and_programs(org_a, admin_client_city) -> None:
    url = admin_url(PartnerOrganization, "change", org_a.organization.pk)
    newcomer = UserFactory(username="newcomer")
    data = form_data(
        admin_client_city,
        url,
        **{
            "memberships-TOTAL_FORMS": "3",
            "memberships-2-user": newcomer.pk,
            "memberships-2-role": Membership.Role.OUTREACH_WORKER,
            "memberships-2-is_active": "on",
        },
    )
    response = admin_client_city.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert Membership.objects.filter(user=newcomer, organization=org_a.organization).exists()
    assert Membership.objects.filter(organization=org_a.organization).count() == 3


# Actions -------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="participant-')
    assert "no-store" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_selected_participants_as_csv(org_a, admin_client_city) -> None:
    area = AreaFactory(name="Delano")
    risky = ParticipantFactory(
        organization=org_a.organization,
        area=area,
        participant_code="OA-00001",
        first_name="@SUM(A1)",
        last_name='=HYPERLINK("http://example.invalid")',
        aliases="-2+3, +cmd",
        risk_tier=Participant.RiskTier.HIGHEST,
    )
    plain = ParticipantFactory(
        organization=org_a.organization, participant_code="OA-00002", last_name="Ramirez"
    )
    not_selected = ParticipantFactory(organization=org_a.organization, participant_code="OA-00003")

    response = admin_client_city.post(
        admin_url(Participant, "changelist"),
        {"action": "export_as_csv", "_selected_action": [risky.pk, plain.pk]},
    )
    rows = read_csv(response)
    assert rows[0] == [
        "Participant code",
        "Last name",
        "First name",
        "Aliases",
        "Organization",
        "Area",
        "Risk tier",
        "Referral source",
        "Identified on",
        "Engaged on",
    ]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {"OA-00001", "OA-00002"}
    assert not_selected.participant_code not in by_code
    row = by_code["OA-00001"]
    assert row[1] == '\'=HYPERLINK("http://example.invalid")'
    assert row[2] == "'@SUM(A1)"
    assert row[3] == "'-2+3, +cmd"
    assert row[4] == "Org A"
    assert row[5] == "Delano"
    assert row[6] == "Tier 1: highest risk"
    assert row[8] == risky.identified_on.isoformat()
    assert row[9] == ""
    assert by_code["OA-00002"][1] == "Ramirez"


def test_export_is_offered_on_every_admin(admin_client_city, sample_rows) -> None:
    for model, model_admin in admin.site._registry.items():
        request = admin_client_city.get(admin_url(model, "changelist")).wsgi_request
        assert "export_as_csv" in model_admin.get_actions(request), model


def test_deactivate_selected_organisations(org_a, org_b, admin_client_city) -> None:
    untouched = PartnerOrganizationFactory()
    response = admin_client_city.post(
        admin_url(PartnerOrganization, "changelist"),
        {
            "action": "deactivate",
            "_selected_action": [org_a.organization.pk, org_b.organization.pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "2 organisations deactivated" in response.content.decode()
    assert not PartnerOrganization.objects.filter(
        pk__in=[org_a.organization.pk, org_b.organization.pk], is_active=True
    ).exists()
    assert not Membership.objects.filter(organization=org_a.organization, is_active=True).exists()
    untouched.refresh_from_db()
    assert untouched.is_active


# Writes through the services -----------------------------------------------------------------


def test_participant_add_gives_the_next_code_when_left_blank(org_a, admin_client_city) -> None:
    ParticipantFactory(organization=org_a.organization, participant_code="OA-00007")
    data = form_data(
        admin_client_city,
        admin_url(Participant, "add"),
        organization=org_a.organization.pk,
        participant_code="",
        first_name="Mateo",
        last_name="Fictional",
        identified_on=timezone.localdate().isoformat(),
    )
    response = admin_client_city.post(admin_url(Participant, "add"), data)
    assert response.status_code == 302
    created = Participant.objects.get(last_name="Fictional")
    assert created.participant_code == "OA-00008"


def test_participant_add_refuses_dates_out_of_order(org_a, admin_client_city) -> None:
    today = timezone.localdate()
    data = form_data(
        admin_client_city,
        admin_url(Participant, "add"),
        organization=org_a.organization.pk,
        first_name="Mateo",
        last_name="Fictional",
        identified_on=today.isoformat(),
        engaged_on=(today - timedelta(days=3)).isoformat(),
    )
    response = admin_client_city.post(admin_url(Participant, "add"), data)
    assert errors_of(response)
    assert not Participant.objects.filter(last_name="Fictional").exists()


def test_enrollment_add_goes_through_enroll_participant(org_a, admin_client_city) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    start = timezone.localdate() - timedelta(days=3)
    data = form_data(
        admin_client_city,
        admin_url(Enrollment, "add"),
        participant=person.pk,
        program=org_a.program.pk,
        assigned_worker=org_a.worker.pk,
        status=Enrollment.Status.ENROLLED,
        referred_on=start.isoformat(),
    )
    response = admin_client_city.post(admin_url(Enrollment, "add"), data)
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(participant=person)
    # The service dates every step up to the starting status and writes the history.
    assert enrollment.status == Enrollment.Status.ENROLLED
    assert enrollment.contacted_on == enrollment.engaged_on == enrollment.enrolled_on == start
    change = enrollment.status_changes.get()
    assert change.to_status == Enrollment.Status.ENROLLED
    assert change.changed_by.username == "city-admin"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("inactive_program", "no longer active"),
        ("worker_elsewhere", "is not an active member"),
        ("already_open", "already has an open enrolment"),
    ],
)
def test_enrollment_add_refusal_is_a_form_error_and_saves_nothing(
    org_a, org_b, admin_client_city, setup, message
) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    worker = org_a.worker
    if setup == "inactive_program":
        org_a.program.is_active = False
        org_a.program.save()
    elif setup == "worker_elsewhere":
        worker = org_b.worker
    else:
        EnrollmentFactory(participant=person, program=org_a.program)
    before = (Enrollment.objects.count(), EnrollmentStatusChange.objects.count())
    data = form_data(
        admin_client_city,
        admin_url(Enrollment, "add"),
        participant=person.pk,
        program=org_a.program.pk,
        assigned_worker=worker.pk,
        status=Enrollment.Status.REFERRED,
        referred_on=timezone.localdate().isoformat(),
    )
    response = admin_client_city.post(admin_url(Enrollment, "add"), data)
    assert message in errors_of(response)
    assert (Enrollment.objects.count(), EnrollmentStatusChange.objects.count()) == before
    # What was typed is still there.
    assert response.context["adminform"].form["participant"].value() == str(person.pk)


def _open_enrollment(org) -> Enrollment:
    person = ParticipantFactory(organization=org.organization)
    return services.enroll_participant(
        participant=person,
        program=org.program,
        by=None,
        on=timezone.localdate() - timedelta(days=20),
    )


def test_enrollment_status_change_goes_through_the_service(org_a, admin_client_city) -> None:
    enrollment = _open_enrollment(org_a)
    url = admin_url(Enrollment, "change", enrollment.pk)
    on = timezone.localdate() - timedelta(days=2)
    data = form_data(
        admin_client_city,
        url,
        new_status=Enrollment.Status.ENGAGED,
        status_on=on.isoformat(),
        note="Met at the park",
        assigned_worker=org_a.worker.pk,
    )
    response = admin_client_city.post(url, data)
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ENGAGED
    assert enrollment.engaged_on == on
    assert enrollment.assigned_worker == org_a.worker
    latest = enrollment.status_changes.order_by("-changed_at", "-id").first()
    assert (latest.from_status, latest.to_status, latest.note) == (
        "referred",
        "engaged",
        "Met at the park",
    )


def test_enrollment_exit_goes_through_exit_enrollment(org_a, admin_client_city) -> None:
    enrollment = _open_enrollment(org_a)
    url = admin_url(Enrollment, "change", enrollment.pk)
    data = form_data(
        admin_client_city,
        url,
        new_status=Enrollment.Status.EXITED,
        exit_with_reason=Enrollment.ExitReason.MOVED,
    )
    response = admin_client_city.post(url, data)
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.EXITED
    assert enrollment.exit_reason == Enrollment.ExitReason.MOVED
    assert enrollment.exited_on == timezone.localdate()
    # Once exited, the change page offers no more transitions and still renders.
    assert admin_client_city.get(url).status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"new_status": "exited"}, "Choose an exit reason"),
        ({"new_status": "active", "status_on": "2001-01-01"}, "before the referral"),
        (
            {"new_status": "exited", "exit_with_reason": "moved", "status_on": "2001-01-01"},
            "cannot be before the enrolment",
        ),
        ({"new_status": "engaged", "status_on": "2199-01-01"}, "cannot be in the future"),
        ({"assigned_worker": "other-org"}, "is not an active member"),
    ],
)
def test_enrollment_change_refusal_is_a_form_error_and_changes_nothing(
    org_a, org_b, admin_client_city, changes, message
) -> None:
    enrollment = _open_enrollment(org_a)
    if changes.get("assigned_worker") == "other-org":
        changes = {"assigned_worker": org_b.worker.pk}
    url = admin_url(Enrollment, "change", enrollment.pk)
    response = admin_client_city.post(url, form_data(admin_client_city, url, **changes))
    assert message in errors_of(response)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REFERRED
    assert enrollment.assigned_worker is None
    assert enrollment.status_changes.count() == 1


def _session_form(client: Client, org, people, **changes: object) -> dict[str, object]:
    when = timezone.localtime(timezone.now() - timedelta(hours=3))
    fields: dict[str, object] = {
        "organization": org.organization.pk,
        "program": org.program.pk,
        "worker": org.worker.pk,
        "attendees": [person.pk for person in people],
        "kind": Session.Kind.GROUP_SESSION,
        "occurred_at_0": when.date().isoformat(),
        "occurred_at_1": when.strftime("%H:%M:%S"),
        "duration_minutes": "90",
        "location": Session.Location.OFFICE,
    }
    fields.update(changes)
    return form_data(client, admin_url(Session, "add"), **fields)


def test_session_add_goes_through_log_session(org_a, admin_client_city) -> None:
    people = ParticipantFactory.create_batch(3, organization=org_a.organization)
    response = admin_client_city.post(
        admin_url(Session, "add"), _session_form(admin_client_city, org_a, people)
    )
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.worker == org_a.worker
    attendance = SessionParticipant.objects.filter(session=session)
    assert {a.participant_id for a in attendance} == {p.pk for p in people}
    # The service copies the session time onto each attendance row.
    assert {a.occurred_at for a in attendance} == {session.occurred_at}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("worker_elsewhere", "is not an active member"),
        ("participant_elsewhere", "your organisation's participants"),
        ("program_elsewhere", "one of your organisation's programs"),
        ("future", "cannot be in the future"),
        ("too_long", "between 1 and 1440 minutes"),
    ],
)
def test_session_add_refusal_is_a_form_error_and_saves_nothing(
    org_a, org_b, admin_client_city, case, message
) -> None:
    people = [ParticipantFactory(organization=org_a.organization)]
    changes: dict[str, object] = {}
    if case == "worker_elsewhere":
        changes["worker"] = org_b.worker.pk
    elif case == "participant_elsewhere":
        people.append(ParticipantFactory(organization=org_b.organization))
    elif case == "program_elsewhere":
        changes["program"] = org_b.program.pk
    elif case == "future":
        later = timezone.localtime(timezone.now() + timedelta(days=2))
        changes["occurred_at_0"] = later.date().isoformat()
    else:
        changes["duration_minutes"] = "2000"
    data = _session_form(admin_client_city, org_a, people, **changes)
    response = admin_client_city.post(admin_url(Session, "add"), data)
    assert message in errors_of(response)
    assert not Session.objects.exists()
    assert not SessionParticipant.objects.exists()


def test_session_change_corrects_details_but_not_who_or_when(org_a, admin_client_city) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    session = SessionFactory(
        organization=org_a.organization, worker=org_a.worker, participants=[person]
    )
    url = admin_url(Session, "change", session.pk)
    response = admin_client_city.get(url)
    assert person.participant_code in response.content.decode()
    form = response.context["adminform"].form
    assert "worker" not in form.fields
    assert "occurred_at" not in form.fields
    assert "notes" not in form.fields

    data = form_data(admin_client_city, url, duration_minutes="30")
    assert admin_client_city.post(url, data).status_code == 302
    session.refresh_from_db()
    assert session.duration_minutes == 30

    data = form_data(
        admin_client_city,
        url,
        follow_up_on=(timezone.localdate() - timedelta(days=30)).isoformat(),
    )
    assert "before the session" in errors_of(admin_client_city.post(url, data))


def test_case_notes_never_show_in_the_admin(org_a, admin_client_city) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    session = SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        participants=[person],
        notes="Talked about his brother's case",
    )
    referral = ReferralFactory(participant=person, notes="Housing is urgent, family threatened")
    for url in (
        admin_url(Session, "change", session.pk),
        admin_url(Session, "changelist"),
        admin_url(Referral, "change", referral.pk),
        admin_url(Participant, "change", person.pk),
    ):
        content = admin_client_city.get(url).content.decode()
        assert "brother" not in content
        assert "threatened" not in content


def _referral_form(client: Client, org, person, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "participant": person.pk,
        "organization": org.organization.pk,
        "made_by": org.worker.pk,
        "service_category": Referral.ServiceCategory.EMPLOYMENT,
        "outside_provider": "America's Job Center Bakersfield",
        "made_on": timezone.localdate().isoformat(),
    }
    fields.update(changes)
    return form_data(client, admin_url(Referral, "add"), **fields)


def test_referral_add_goes_through_make_referral(org_a, admin_client_city) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    data = _referral_form(admin_client_city, org_a, person, outside_provider="  Job Center  ")
    response = admin_client_city.post(admin_url(Referral, "add"), data)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.outside_provider == "Job Center"  # the service trims it
    assert referral.status == Referral.Status.MADE


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("made_by_elsewhere", "is not an active member"),
        ("participant_elsewhere", "your organisation's participants"),
        ("inactive_partner", "is no longer active"),
        ("future", "cannot be in the future"),
    ],
)
def test_referral_add_refusal_is_a_form_error_and_saves_nothing(
    org_a, org_b, admin_client_city, case, message
) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    changes: dict[str, object] = {}
    if case == "made_by_elsewhere":
        changes["made_by"] = org_b.worker.pk
    elif case == "participant_elsewhere":
        changes["participant"] = ParticipantFactory(organization=org_b.organization).pk
    elif case == "inactive_partner":
        partner = PartnerOrganizationFactory(is_active=False)
        changes.update(to_organization=partner.pk, outside_provider="")
    else:
        changes["made_on"] = (timezone.localdate() + timedelta(days=3)).isoformat()
    data = _referral_form(admin_client_city, org_a, person, **changes)
    response = admin_client_city.post(admin_url(Referral, "add"), data)
    assert message in errors_of(response)
    assert not Referral.objects.exists()


def test_referral_status_change_goes_through_advance_referral(org_a, admin_client_city) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    referral = ReferralFactory(participant=person, made_by=org_a.worker)
    url = admin_url(Referral, "change", referral.pk)
    on = timezone.localdate() - timedelta(days=1)
    data = form_data(
        admin_client_city,
        url,
        new_status=Referral.Status.COMPLETED,
        status_on=on.isoformat(),
        new_outcome="Hired at a warehouse",
    )
    assert admin_client_city.post(url, data).status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    assert referral.closed_on == on
    assert referral.outcome == "Hired at a warehouse"


def test_referral_status_change_refusal_is_a_form_error(org_a, admin_client_city) -> None:
    referral = ReferralFactory(participant=ParticipantFactory(organization=org_a.organization))
    url = admin_url(Referral, "change", referral.pk)
    data = form_data(
        admin_client_city,
        url,
        new_status=Referral.Status.ACCEPTED,
        status_on=(referral.made_on - timedelta(days=5)).isoformat(),
    )
    assert "before the referral was made" in errors_of(admin_client_city.post(url, data))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.MADE
    assert referral.accepted_on is None


def test_status_history_is_read_only(org_a, admin_client_city) -> None:
    enrollment = _open_enrollment(org_a)
    change = enrollment.status_changes.get()
    url = admin_url(EnrollmentStatusChange, "change", change.pk)
    response = admin_client_city.post(url, {"note": "rewritten", "to_status": "exited"})
    assert response.status_code == 403
    assert (
        admin_client_city.post(
            admin_url(EnrollmentStatusChange, "delete", change.pk), {"post": "yes"}
        ).status_code
        == 403
    )
    change.refresh_from_db()
    assert change.note == "Enrolment opened"


def test_session_participant_autocomplete_answers(org_a, admin_client_city) -> None:
    person = ParticipantFactory(organization=org_a.organization, last_name="Zamora")
    response = admin_client_city.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "interventions",
            "model_name": "session",
            "field_name": "participants",
            "term": "Zamora",
        },
    )
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(person.pk)]


def test_admin_index_renders_for_a_superuser(admin_client_city) -> None:
    assert admin_client_city.get("/admin/").status_code == 200
