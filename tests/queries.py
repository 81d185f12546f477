"""No query per row, per worker, per organisation, per area or per program: a page's exact
query count, measured before and after the world grows in every direction a loop could hide
in, must be the same. A ceiling would let a page add a query per organisation as long as the
test's world stays small; an equality does not."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import OrgSetup
from tests.factories import (
    AreaFactory,
    ConsentFactory,
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)


def count_queries(call: Callable[[], object]) -> int:
    """The exact number of queries of a call that is not a request (a selector, a service)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def queries_of(request: Callable[[], Any], *, status: int = 200) -> list[str]:
    """The SQL of one request, a streamed body read to its end."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
        assert response.status_code == status, response.status_code
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return [query["sql"] for query in captured.captured_queries]


def _shape(sql: str) -> str:
    return re.sub(r"\b\d+\b", "N", sql)


def assert_fixed_queries(
    request: Callable[[], Any] | list[Callable[[], Any]],
    grow: Callable[[], None],
    *,
    status: int = 200,
    later: tuple[Callable[[], Any], ...] = (),
) -> int:
    """Measure each request exactly, `grow()` the world, measure again: equal, or the failure
    shows the queries that appeared. `later` are requests that only make sense in the grown
    world (page 3 of a list), held to the first request's count. Returns that count."""
    requests = request if isinstance(request, list) else [request]
    for each in requests:
        queries_of(each, status=status)  # a client's first request: session and caches
    before = [queries_of(each, status=status) for each in requests]
    grow()
    after = [queries_of(each, status=status) for each in requests]
    after += [queries_of(each, status=status) for each in later]
    before += [before[0]] * len(later)
    for small, large in zip(before, after, strict=True):
        extra = Counter(map(_shape, large)) - Counter(map(_shape, small))
        assert len(large) == len(small), (
            f"{len(small)} queries grew to {len(large)}; new or repeated:\n"
            + "\n".join(sql[:300] for sql in extra)
        )
    return len(before[0])


def spread(org: OrgSetup, n: int, *, prefix: str) -> None:
    """`n` more of each thing a page could look up one at a time: workers of the organisation
    with a caseload, programs (each in its own area), participants' areas, sessions and
    referrals, and other organisations, each sharing one person with `org` under consent."""
    for index in range(n):
        worker = UserFactory(username=f"{prefix}-worker-{index}")
        MembershipFactory(user=worker, organization=org.organization)
        program = ProgramFactory(organization=org.organization, area=AreaFactory())
        area = AreaFactory()
        person = ParticipantFactory(organization=org.organization, area=area)
        EnrollmentFactory(participant=person, program=program, assigned_worker=worker)
        SessionFactory(
            organization=org.organization, program=program, worker=worker, participants=[person]
        )
        ReferralFactory(participant=person, made_by=worker)

        other = PartnerOrganizationFactory()
        their_worker = UserFactory(username=f"{prefix}-other-worker-{index}")
        MembershipFactory(user=their_worker, organization=other)
        theirs = ParticipantFactory(organization=other, area=area)
        EnrollmentFactory(
            participant=theirs,
            program=ProgramFactory(organization=other),
            assigned_worker=their_worker,
        )
        SessionFactory(organization=other, worker=their_worker, participants=[theirs])
        ConsentFactory(participant=theirs, organization=org.organization, recorded_by=their_worker)
