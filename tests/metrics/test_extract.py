"""The de-identified extract for outside evaluators: no free text ever (a unique string planted in
every text field of every model is searched for in the zip), pseudonyms that link only under the
same key, the counts per person and month, suppression in areas.csv, who may download it, and the
audit row with its parameters."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import zipfile
from datetime import date, datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from django.utils import timezone

from interventions.access import ANALYST_GROUP
from interventions.audit.models import AuditEvent
from interventions.models import (
    Area,
    CallIn,
    CustomNotification,
    Enrollment,
    EnrollmentStatusChange,
    IncidentGroup,
    IncidentParticipant,
    ItemChoice,
    PlanChange,
    Referral,
    ReminderDelivery,
    ReminderPreference,
    ReviewDecision,
    RiskTierChange,
    ShootingReview,
)
from metrics.extract import (
    AREAS_COLUMNS,
    PEOPLE_COLUMNS,
    ExtractRequest,
    age_band,
    build_extract,
    status_at,
)
from metrics.models import ActivityRollup, AreaPopulation, CrimeOutcome, RollupFillState
from tests.factories import (
    AreaFactory,
    ConsentFactory,
    ConsentOverrideFactory,
    EnrollmentFactory,
    GroupConflictFactory,
    GroupTieFactory,
    IncidentFactory,
    ParticipantFactory,
    ReferralFactory,
    ResponseTaskFactory,
    SessionFactory,
    StreetGroupFactory,
    UserFactory,
)
from tests.outcomes.factories import OutcomeEventFactory, make_version
from tests.plans.factories import (
    GoalFactory,
    LifePlanFactory,
    MilestoneFactory,
    PlanTemplateFactory,
    PlanTemplateGoalFactory,
)

EXTRACT = reverse("metrics:extract")
KEY = "k" * 40
OTHER_KEY = "z" * 40


def aware(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


def read_zip(content: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == ["areas.csv", "dictionary.csv", "people.csv"]
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
            for name in archive.namelist()
        }


def extract(org_setup, key: str = KEY, start=date(2024, 1, 1), end=date(2024, 4, 1)) -> bytes:  # type: ignore[no-untyped-def]
    return build_extract(
        ExtractRequest(organizations=[org_setup.organization], start=start, end=end, key=key)
    ).content


@pytest.fixture
def person(org_a):  # type: ignore[no-untyped-def]
    """One participant of org A with a year of activity in early 2024."""
    area = AreaFactory(name="Eastside", slug="eastside", kind=Area.Kind.NEIGHBORHOOD)
    participant = ParticipantFactory(
        organization=org_a.organization,
        area=area,
        date_of_birth=date(2006, 2, 15),
        identified_on=date(2023, 12, 1),
        risk_tier=1,
    )
    EnrollmentFactory(
        participant=participant,
        program=org_a.program,
        status=Enrollment.Status.ACTIVE,
        referred_on=date(2024, 1, 10),
        enrolled_on=date(2024, 2, 20),
        active_on=date(2024, 3, 5),
    )
    for day in (3, 17):
        SessionFactory(
            organization=org_a.organization,
            worker=org_a.worker,
            occurred_at=aware(2024, 2, day),
            duration_minutes=45,
            participants=[participant],
        )
    ReferralFactory(
        participant=participant,
        organization=org_a.organization,
        made_on=date(2024, 2, 5),
        status=Referral.Status.COMPLETED,
        accepted_on=date(2024, 2, 6),
        closed_on=date(2024, 3, 2),
    )
    incident = IncidentFactory(occurred_at=aware(2024, 3, 10, 8))
    ResponseTaskFactory(incident=incident, participant=participant)
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=aware(2024, 3, 11, 20),  # 36 hours later: within 72 h, not 24 h
        participants=[participant],
    )
    return participant


# --- No free text, ever ---------------------------------------------------------------------

# Tables that are not case data and never reach an extract: the audit trail is append-only
# (no planting possible), sessions of users are opaque keys.
NOT_PLANTED = {
    "audit.AuditEvent",
    "audit.UserSession",
    "auditevent",
    "usersession",
    # The ledger's database refuses any change but the next step (and a decline reason or a
    # payment reference outside its step); the extract holds no incentive column at all.
    "interventions.IncentiveEntry",
}


def text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not (model is Area and field.name == "slug")  # the area code, in the extract by design
    ]


def test_no_text_field_of_any_model_ever_reaches_the_zip(org_a, org_b, person) -> None:  # type: ignore[no-untyped-def]
    # A row of every model, so that every text field holds a planted string.
    county = AreaFactory(name="County", slug="county", kind=Area.Kind.COUNTY)
    Area.objects.filter(pk=person.area_id).update(parent=county)
    group = StreetGroupFactory(area=person.area)
    GroupTieFactory(participant=person, group=group)
    GroupConflictFactory(group_a=group)
    incident = IncidentFactory(area=person.area, occurred_at=aware(2024, 2, 1))
    IncidentParticipant.objects.create(
        incident=incident, participant=person, role=IncidentParticipant.Role.VICTIM
    )
    IncidentGroup.objects.create(incident=incident, group=group)
    enrollment = person.enrollments.get()
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment, to_status="active", changed_on=date(2024, 3, 5)
    )
    Referral.objects.filter(participant=person).update(outside_provider="Job Center")
    call_in = CallIn.objects.create(
        held_on=date(2024, 2, 2), place="Hall", organization=org_a.organization
    )
    call_in.attendees.add(person)
    CustomNotification.objects.create(
        participant=person, organization=org_a.organization, delivered_on=date(2024, 2, 3)
    )
    review = ShootingReview.objects.create(
        period_start=date(2024, 2, 1),
        period_end=date(2024, 2, 7),
        organization=org_a.organization,
        decisions="Decided",
        recorded_by=org_a.manager,
    )
    ReviewDecision.objects.create(review=review, assigned_to=org_a.worker, description="Follow")
    ConsentFactory(participant=person, organization=org_b.organization)
    ConsentOverrideFactory(participant=person)
    CrimeOutcome.objects.create(
        area=person.area,
        period_start=date(2024, 2, 1),
        granularity="month",
        measure="homicide",
        count=4,
        source="Police",
        note="Note",
    )
    AreaPopulation.objects.create(area=person.area, year=2024, population=5000, source="Census")
    ActivityRollup.objects.create(
        month=date(2024, 2, 1),
        organization=org_a.organization,
        program_kind="gang_intervention",
        area=person.area,
        sessions=2,
        participants_served=1,
    )
    RollupFillState.objects.create(month=date(2024, 2, 1), refreshed_at=timezone.now())
    # Outcomes and assessments, life plans, plan templates and reminders.
    OutcomeEventFactory(participant=person, recorded_by=org_a.worker)
    RiskTierChange.objects.create(
        participant=person,
        organization=org_a.organization,
        from_tier=1,
        to_tier=2,
        basis=RiskTierChange.Basis.BY_HAND,
        reason="Reason",
        changed_by=org_a.manager,
    )
    version = make_version(scales=1, items_per_scale=1)
    ItemChoice.objects.create(item=version.items.get(), label="Often", points=1)
    PlanTemplateGoalFactory(template=PlanTemplateFactory(program=org_a.program))
    plan = LifePlanFactory(enrollment=enrollment, drafted_by=org_a.worker)
    goal = GoalFactory(plan=plan)
    MilestoneFactory(goal=goal)
    PlanChange.objects.create(
        plan=plan, action=PlanChange.Action.GOAL_ADDED, goal=goal, changed_by=org_a.worker
    )
    ReminderPreference.objects.create(user=org_a.worker)
    ReminderDelivery.objects.create(
        user=org_a.worker, day=date(2024, 2, 1), kind=ReminderDelivery.Kind.MORNING_DIGEST
    )

    planted: list[str] = []
    checked = [
        *apps.get_app_config("interventions").get_models(),
        *apps.get_app_config("metrics").get_models(),
        get_user_model(),
    ]
    for model in checked:
        fields = text_fields(model)
        if not fields or model._meta.label in NOT_PLANTED:
            continue
        rows = list(model.objects.values_list("pk", flat=True))
        assert rows, f"add a {model._meta.label} row to this test, so its text fields are planted"
        for pk in rows:
            values = {}
            for field in fields:
                value = f"zq{len(planted):05d}plant"[: field.max_length or 100]
                planted.append(value)
                values[field.name] = value
            model.objects.filter(pk=pk).update(**values)

    text = b"".join(
        zipfile.ZipFile(io.BytesIO(extract(org_a))).read(name)
        for name in ("people.csv", "areas.csv", "dictionary.csv")
    ).decode()
    assert len(planted) > 60
    leaked = [value for value in planted if value in text]
    assert leaked == [], leaked
    # Nor the date of birth, nor the database id as such.
    assert "2006-02-15" not in text and "2006" not in text
    # The person is there, under a pseudonym.
    assert read_zip(extract(org_a))["people.csv"]


# --- Pseudonyms -----------------------------------------------------------------------------


def test_the_same_key_links_extracts_and_another_key_does_not(org_a, person) -> None:  # type: ignore[no-untyped-def]
    first = {row["person"] for row in read_zip(extract(org_a))["people.csv"]}
    later = {
        row["person"]
        for row in read_zip(extract(org_a, start=date(2024, 3, 1), end=date(2024, 6, 1)))[
            "people.csv"
        ]
    }
    other = {row["person"] for row in read_zip(extract(org_a, key=OTHER_KEY))["people.csv"]}
    expected = hmac.new(KEY.encode(), f"participant:{person.pk}".encode(), hashlib.sha256)
    assert first == later == {expected.hexdigest()}
    assert other and other.isdisjoint(first)


def test_a_short_key_is_refused(org_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="at least 32"):
        extract(org_a, key="short")


# --- What a row says ------------------------------------------------------------------------


def test_one_row_per_person_and_month_with_the_month_s_activity(org_a, org_b, person) -> None:  # type: ignore[no-untyped-def]
    # Another organisation's session with the person does not count for org A's extract, and
    # another organisation's participant is not in it.
    SessionFactory(
        organization=org_b.organization,
        worker=org_b.worker,
        occurred_at=aware(2024, 2, 20),
        participants=[person],
    )
    EnrollmentFactory(participant=ParticipantFactory(organization=org_b.organization))
    rows = read_zip(extract(org_a))["people.csv"]
    by_month = {row["month"]: row for row in rows}
    assert sorted(by_month) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert len({row["person"] for row in rows}) == 1
    january, february, march = by_month["2024-01"], by_month["2024-02"], by_month["2024-03"]
    assert january["age_band"] == "under 18" and march["age_band"] == "18-24"
    assert january["area"] == "eastside" and january["risk_tier"] == "1"
    assert january["program_kind"] == "gang_intervention"
    assert [january["enrolment_status"], february["enrolment_status"]] == ["referred", "enrolled"]
    assert march["enrolment_status"] == "active"
    assert (february["sessions"], february["contact_minutes"]) == ("2", "90")
    assert (february["referrals_made"], february["referrals_completed"]) == ("1", "0")
    assert march["referrals_completed"] == "1"
    assert (march["incident_tasks"], march["reached_within_24h"], march["reached_within_72h"]) == (
        "1",
        "0",
        "1",
    )
    assert march["sessions"] == "1" and january["sessions"] == "0"


def test_areas_csv_suppresses_counts_of_1_to_10_people_only(org_a, person) -> None:  # type: ignore[no-untyped-def]
    ActivityRollup.objects.create(
        month=date(2024, 2, 1),
        organization=org_a.organization,
        program_kind="gang_intervention",
        area=person.area,
        sessions=3,
        contact_minutes=90,
        participants_served=3,
        new_enrollments=12,
    )
    CrimeOutcome.objects.create(
        area=person.area,
        period_start=date(2024, 2, 1),
        granularity="month",
        measure="homicide",
        count=2,
        source="Police",
    )
    rows = read_zip(extract(org_a))["areas.csv"]
    cells = {
        (row["source"], row["measure"]): row["value"] for row in rows if row["period"] == "2024-02"
    }
    assert cells[("activity", "participants_served")] == "1\u201310"
    assert cells[("activity", "new_enrollments")] == "12"
    assert cells[("activity", "exits")] == "0"
    assert cells[("activity", "sessions")] == "3"  # sessions are not people
    assert cells[("official", "homicide")] == "2"  # public figures, as published
    assert {row["area"] for row in rows} == {"eastside"}


def test_the_dictionary_lists_every_column_of_both_files(org_a, person) -> None:  # type: ignore[no-untyped-def]
    content = extract(org_a)
    dictionary = {(row["file"], row["column"]) for row in read_zip(content)["dictionary.csv"]}
    archive = zipfile.ZipFile(io.BytesIO(content))
    for name, columns in (("people.csv", PEOPLE_COLUMNS), ("areas.csv", AREAS_COLUMNS)):
        header = next(csv.reader(io.StringIO(archive.read(name).decode())))
        assert header == [column for column, _m, _a in columns]
        assert {(name, column) for column, _m, _a in columns} <= dictionary


# --- The page -------------------------------------------------------------------------------


def form_data(org_a, key: str = KEY) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "organizations": [org_a.organization.slug],
        "start": "2024-01",
        "end": "2024-04",
        "key": key,
    }


def test_an_analyst_downloads_the_zip_and_the_audit_trail_has_its_parameters_not_the_key(
    client, org_a, person
) -> None:  # type: ignore[no-untyped-def]
    analyst = UserFactory(username="analyst")
    analyst.groups.add(Group.objects.get(name=ANALYST_GROUP))
    client.force_login(analyst)
    page = client.get(EXTRACT)
    assert page.status_code == 200
    fresh_key = page.context["form"].initial["key"]
    assert len(fresh_key) >= 32 and fresh_key != client.get(EXTRACT).context["form"].initial["key"]
    response = client.post(EXTRACT, form_data(org_a))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert len(read_zip(response.content)["people.csv"]) == 4
    event = AuditEvent.objects.get(object_type="evaluator_extract")
    assert event.detail["organizations"] == org_a.organization.slug
    assert (event.detail["start"], event.detail["end"], event.detail["people_rows"]) == (
        "2024-01",
        "2024-04",
        4,
    )
    assert KEY not in str(event.detail)


def test_a_short_key_on_the_form_is_refused_and_nothing_is_recorded(
    client, city_admin, org_a, person
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(city_admin)
    response = client.post(EXTRACT, form_data(org_a, key="too-short"))
    assert response.status_code == 400 and "key" in response.context["form"].errors
    assert not AuditEvent.objects.filter(object_type="evaluator_extract").exists()


def test_managers_and_workers_may_not_download_the_extract(client, org_a, person) -> None:  # type: ignore[no-untyped-def]
    for user in (org_a.manager, org_a.worker):
        client.force_login(user)
        assert client.get(EXTRACT).status_code == 403
        assert client.post(EXTRACT, form_data(org_a)).status_code == 403
    assert not AuditEvent.objects.filter(object_type="evaluator_extract").exists()


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2006, 3, 2), "under 18"),  # 17 the day before the 18th birthday
        (date(2006, 3, 1), "18-24"),
        (date(1999, 3, 2), "18-24"),
        (date(1999, 3, 1), "25-34"),
        (date(1989, 3, 2), "25-34"),
        (date(1989, 3, 1), "35+"),
        (None, "unknown"),
    ],
)
def test_age_bands_at_the_first_of_the_month(born: date | None, band: str) -> None:
    assert age_band(born, date(2024, 3, 1)) == band


def test_status_at_the_month_end_follows_the_latest_dated_step() -> None:
    steps = dict.fromkeys(Enrollment.STATUS_DATE_FIELDS.values())
    steps.update(referred_on=date(2024, 1, 5), active_on=date(2024, 2, 1))
    steps.update(inactive_on=date(2024, 3, 1))
    assert status_at(steps, date(2024, 1, 31)) == "referred"
    assert status_at(steps, date(2024, 2, 29)) == "active"
    assert status_at(steps, date(2024, 3, 31)) == "inactive"
    steps["active_on"] = date(2024, 4, 10)  # active again after a pause
    assert status_at(steps, date(2024, 4, 30)) == "active"
    assert status_at(steps, date(2023, 12, 31)) is None
