"""Reach measures, incident counts for the outcomes, and the notification funnel, with figures
computed by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from interventions.models import (
    CallIn,
    CustomNotification,
    Incident,
    PartnerOrganization,
    ResponseTask,
)
from interventions.selectors import response as rs
from interventions.services import response as response_services
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    IncidentFactory,
    MembershipFactory,
    ParticipantFactory,
    ResponseTaskFactory,
    SessionFactory,
)
from tests.queries import count_queries


@pytest.fixture
def reach_world(org_a):
    """One incident 10 days ago with four connected people, first contacted after 3 h, 30 h,
    80 h and never (one session before the incident does not count)."""
    org = org_a.organization
    when = timezone.now().replace(microsecond=0) - timedelta(days=10)
    incident = IncidentFactory(occurred_at=when)
    people = [ParticipantFactory(organization=org) for _ in range(4)]
    for person in people:
        ResponseTaskFactory(incident=incident, participant=person, organization=org)
    for person, hours in ((people[0], 3), (people[0], 5), (people[1], 30), (people[2], 80)):
        SessionFactory(
            organization=org,
            worker=org_a.worker,
            occurred_at=when + timedelta(hours=hours),
            participants=[person],
        )
    SessionFactory(
        organization=org,
        worker=org_a.worker,
        occurred_at=when - timedelta(hours=1),
        participants=[people[3]],
    )
    return incident, people


def test_time_to_first_contact_per_person(reach_world):
    incident, people = reach_world
    tasks = rs.with_first_contact(ResponseTask.objects.filter(incident=incident))
    times = {t.participant_id: t.time_to_first_contact for t in tasks}
    assert times == {
        people[0].pk: timedelta(hours=3),
        people[1].pk: timedelta(hours=30),
        people[2].pk: timedelta(hours=80),
        people[3].pk: None,
    }


def test_incident_reach(reach_world):
    incident, _ = reach_world
    reach = rs.incident_reach(ResponseTask.objects.filter(incident=incident))
    assert (reach.connected, reach.reached, reach.within_24h, reach.within_72h) == (4, 3, 1, 2)
    assert (reach.share_24h, reach.share_72h) == (25.0, 50.0)


def _more_incidents_elsewhere(org_a, months: int, organizations: int) -> None:
    """Incidents in earlier months, each in its own area, connecting people of A and of more
    organisations, some reached."""
    for month in range(1, months + 1):
        when = timezone.now() - timedelta(days=30 * month + 5)
        incident = IncidentFactory(occurred_at=when, area=AreaFactory())
        for _ in range(organizations):
            org = MembershipFactory().organization
            for owner in (org, org_a.organization):
                person = ParticipantFactory(organization=owner)
                ResponseTaskFactory(incident=incident, participant=person, organization=owner)
                SessionFactory(
                    organization=owner, occurred_at=when + timedelta(hours=4), participants=[person]
                )


def test_monthly_reach_query_count_is_exact_as_months_areas_and_organisations_grow(
    reach_world, org_a, manager, city_admin
):
    today = timezone.localdate()
    start = today - timedelta(days=200)
    calls = [lambda u=u: rs.monthly_reach(u, start, today) for u in (manager, city_admin)]
    for call in calls:
        call()  # the users' roles, read once per user object
    before = [count_queries(call) for call in calls]
    _more_incidents_elsewhere(org_a, months=5, organizations=3)
    assert [count_queries(call) for call in calls] == before


def test_monthly_reach(reach_world, manager, org_b):
    incident, _ = reach_world
    today = timezone.localdate()
    rows = rs.monthly_reach(manager, today - timedelta(days=60), today)
    month = timezone.localtime(incident.occurred_at).date().replace(day=1)
    assert rows == [
        {
            "month": month,
            "connected": 4,
            "reached": 3,
            "within_24h": 1,
            "within_72h": 2,
            "share_24h": 25.0,
            "share_72h": 50.0,
        }
    ]
    assert rs.monthly_reach(org_b.manager, today - timedelta(days=60), today) == []


def test_monthly_reach_for_organizations_follows_the_scope_not_the_user(
    reach_world, org_b, django_assert_num_queries
):
    """The dashboard's scope decides: every organisation (None), one organisation's, or the
    incidents in some areas."""
    incident, _ = reach_world
    area = AreaFactory()
    elsewhere = AreaFactory()
    Incident.objects.filter(pk=incident.pk).update(area=area)
    other = IncidentFactory(occurred_at=incident.occurred_at, area=elsewhere)
    ResponseTaskFactory(
        incident=other, participant=ParticipantFactory(organization=org_b.organization)
    )
    today = timezone.localdate()
    start = today - timedelta(days=60)

    def totals(rows):
        return [(r["connected"], r["reached"], r["share_24h"], r["share_72h"]) for r in rows]

    with django_assert_num_queries(1):
        every = rs.monthly_reach_for_organizations(None, start, today)
    assert totals(every) == [(5, 3, 20.0, 40.0)]
    only_b = PartnerOrganization.objects.filter(pk=org_b.organization.pk)
    assert totals(rs.monthly_reach_for_organizations(only_b, start, today)) == [(1, 0, 0.0, 0.0)]
    assert totals(rs.monthly_reach_for_organizations(None, start, today, area_ids=[area.pk])) == [
        (4, 3, 25.0, 50.0)
    ]
    assert rs.monthly_reach_for_organizations(None, start, today, area_ids=[]) == []


def test_incident_counts_by_month_find_every_level_in_one_query(db, django_assert_num_queries):
    county = AreaFactory()
    city = AreaFactory(parent=county)
    neighbourhood = AreaFactory(parent=city)
    block = AreaFactory(parent=neighbourhood)
    when = timezone.now() - timedelta(days=3)
    for area in (county, city, neighbourhood, block):
        IncidentFactory(area=area, kind=Incident.Kind.SHOTS_FIRED, occurred_at=when)
    today = timezone.localdate()
    # One query for the areas under the county, whatever the depth, and one for the counts.
    with django_assert_num_queries(2):
        rows = rs.incident_counts_by_month(county, today - timedelta(days=30), today)
    assert {row["measure"]: row["count"] for row in rows}["shooting_incident"] == 4
    with django_assert_num_queries(1):
        rs.incident_counts_by_month(county, today - timedelta(days=30), today, area_ids=[county.pk])


def test_incident_counts_by_month_keep_their_source(db, city_admin):
    city = AreaFactory()
    neighbourhood = AreaFactory(parent=city)
    elsewhere = AreaFactory()
    when = timezone.now() - timedelta(days=3)
    IncidentFactory(
        area=neighbourhood, kind=Incident.Kind.HOMICIDE, victim_count=2, occurred_at=when
    )
    IncidentFactory(
        area=city, kind=Incident.Kind.NONFATAL_SHOOTING, victim_count=3, occurred_at=when
    )
    IncidentFactory(area=city, kind=Incident.Kind.SHOTS_FIRED, victim_count=0, occurred_at=when)
    IncidentFactory(area=elsewhere, kind=Incident.Kind.HOMICIDE, victim_count=1, occurred_at=when)
    today = timezone.localdate()
    rows = rs.incident_counts_by_month(city, today - timedelta(days=30), today)
    counts = {row["measure"]: row["count"] for row in rows}
    assert counts == {"homicide": 2, "nonfatal_shooting": 3, "shooting_incident": 3}
    assert {row["source"] for row in rows} == {"incidents recorded in GVR Case Manager"}
    assert {row["month"] for row in rows} == {timezone.localtime(when).date().replace(day=1)}


@pytest.fixture
def funnel_world(org_a, org_b):
    """org A: 6 identified in the period (1 before it); notified 3 ways; 2 engaged; 1 enrolled."""
    org = org_a.organization
    today = timezone.localdate()
    start = today - timedelta(days=100)
    identified = today - timedelta(days=50)

    def person(**kwargs):
        return ParticipantFactory(organization=org, identified_on=identified, **kwargs)

    by_date = person(notified_on=identified + timedelta(days=1))
    by_notification = person()
    by_call_in = person()
    engaged = person(notified_on=identified, engaged_on=identified + timedelta(days=5))
    person(engaged_on=identified + timedelta(days=2))
    person()
    ParticipantFactory(organization=org, identified_on=start - timedelta(days=1), notified_on=today)
    ParticipantFactory(organization=org_b.organization, identified_on=identified)
    CustomNotification.objects.create(
        participant=by_notification, organization=org, delivered_on=today, message_delivered=True
    )
    CustomNotification.objects.create(
        participant=by_call_in, organization=org, delivered_on=today, message_delivered=False
    )
    CallIn.objects.create(held_on=today, place="Church hall", organization=org).attendees.add(
        by_call_in
    )
    EnrollmentFactory(participant=engaged, program=org_a.program)  # active
    EnrollmentFactory(
        participant=by_date,
        program=org_a.program,
        status="referred",
        enrolled_on=None,
        active_on=None,
    )
    return start, today


def test_funnel_query_count_is_exact_as_organisations_grow(funnel_world, org_a, city_admin):
    start, end = funnel_world
    calls = [lambda u=u: rs.notification_funnel(u, start, end) for u in (org_a.manager, city_admin)]
    for call in calls:
        call()  # the users' roles, read once per user object
    before = [count_queries(call) for call in calls]
    for _ in range(5):
        org = MembershipFactory().organization
        person = ParticipantFactory(organization=org, identified_on=start, notified_on=end)
        CustomNotification.objects.create(
            participant=person, organization=org, delivered_on=end, message_delivered=True
        )
        CallIn.objects.create(held_on=end, place="Hall", organization=org).attendees.add(person)
    assert [count_queries(call) for call in calls] == before


def test_funnel_counts(funnel_world, org_a):
    start, end = funnel_world
    rows = rs.notification_funnel(org_a.manager, start, end)
    assert [
        (r["organization__name"], r["identified"], r["notified"], r["engaged"], r["enrolled"])
        for r in rows
    ] == [(org_a.organization.name, 6, 4, 2, 1)]


def test_funnel_for_the_city_has_every_partner(funnel_world, city_admin, org_b):
    start, end = funnel_world
    rows = rs.notification_funnel(city_admin, start, end)
    assert {r["organization__name"]: r["identified"] for r in rows}[org_b.organization.name] == 1


def test_recording_a_custom_notification_dates_the_notified_step(org_a):
    person = ParticipantFactory(organization=org_a.organization)
    day = timezone.localdate() - timedelta(days=3)
    response_services.record_custom_notification(
        by=org_a.manager,
        participant=person,
        delivered_on=day,
        deliverers=[org_a.worker],
        message_delivered=True,
        response=CustomNotification.Response.ACCEPTED_HELP,
    )
    person.refresh_from_db()
    assert person.notified_on == day


def test_a_worker_cannot_record_a_call_in(org_a):
    from interventions.errors import ServiceError

    with pytest.raises(ServiceError):
        response_services.record_call_in(
            by=org_a.worker,
            organization=org_a.organization,
            held_on=timezone.localdate(),
            place="Hall",
            attendees=[],
        )
    assert not CallIn.objects.exists()
