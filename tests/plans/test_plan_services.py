"""Plans, goals and milestones: the services and their refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from interventions import access as selectors
from interventions.access import FINANCE_GROUP
from interventions.errors import ServiceError
from interventions.models import Enrollment, Membership
from interventions.models.plans import Domain, Goal, LifePlan, MilestoneProgress, PlanChange
from interventions.services import plans as plan_services
from tests.factories import EnrollmentFactory, MembershipFactory, SessionFactory, UserFactory
from tests.plans.conftest import make_finance
from tests.plans.factories import GoalFactory, PlanTemplateGoalFactory

pytestmark = pytest.mark.django_db


def enrolled(org, **fields) -> Enrollment:
    return EnrollmentFactory(
        participant__organization=org.organization,
        program=org.program,
        assigned_worker=org.worker,
        **fields,
    )


def test_draft_from_a_template_adapts_its_starting_goals(org_a):
    template_goal = PlanTemplateGoalFactory(template__program=org_a.program)
    plan = plan_services.draft_plan(
        enrollment=enrolled(org_a), by=org_a.worker, template=template_goal.template
    )
    [goal] = plan.goals.all()
    assert (goal.domain, goal.description) == (Domain.IDENTITY_DOCUMENTS, "Get a California ID")
    assert goal.target_on == timezone.localdate() + timedelta(weeks=8)
    milestones = list(goal.milestones.order_by("due_on"))
    assert [m.description for m in milestones] == [
        "Birth certificate requested",
        "DMV appointment booked",
    ]
    assert milestones[-1].due_on == goal.target_on
    assert plan.status == LifePlan.Status.DRAFT and plan.version == 1


def test_one_current_plan_per_enrolment(org_a):
    enrollment = enrolled(org_a)
    plan_services.draft_plan(enrollment=enrollment, by=org_a.worker)
    with pytest.raises(ServiceError, match="already has a current plan"):
        plan_services.draft_plan(enrollment=enrollment, by=org_a.manager)


def test_a_plan_needs_an_enrolled_or_active_enrolment(org_a):
    enrollment = enrolled(
        org_a, status=Enrollment.Status.REFERRED, enrolled_on=None, active_on=None
    )
    with pytest.raises(ServiceError, match="enrolled or active"):
        plan_services.draft_plan(enrollment=enrollment, by=org_a.worker)


def test_a_template_of_another_program_is_refused(org_a, org_b):
    template_goal = PlanTemplateGoalFactory(template__program=org_b.program)
    with pytest.raises(ServiceError, match="template of this program"):
        plan_services.draft_plan(
            enrollment=enrolled(org_a), by=org_a.worker, template=template_goal.template
        )


def test_another_organisation_or_finance_cannot_draft(org_a, org_b):
    enrollment = enrolled(org_a)
    for outsider in (org_b.worker, make_finance(org_a, "a-fin")):
        with pytest.raises(ServiceError, match="outreach workers and managers"):
            plan_services.draft_plan(enrollment=enrollment, by=outsider)


def test_the_approver_is_a_manager_other_than_the_drafter(org_a):
    plan = plan_services.draft_plan(enrollment=enrolled(org_a), by=org_a.manager)
    GoalFactory(plan=plan)
    with pytest.raises(ServiceError, match="other than the person who drafted"):
        plan_services.approve_plan(plan=plan, by=org_a.manager)
    with pytest.raises(ServiceError, match="Only managers"):
        plan_services.approve_plan(plan=plan, by=org_a.worker)
    other = UserFactory()
    MembershipFactory(user=other, organization=org_a.organization, role=Membership.Role.MANAGER)
    plan = plan_services.approve_plan(plan=plan, by=other)
    assert plan.status == LifePlan.Status.APPROVED and plan.approved_by == other


def test_an_empty_plan_is_not_approved(org_a):
    plan = plan_services.draft_plan(enrollment=enrolled(org_a), by=org_a.worker)
    with pytest.raises(ServiceError, match="at least one goal"):
        plan_services.approve_plan(plan=plan, by=org_a.manager)


def test_changes_after_approval_are_kept_with_who_and_when(pw):
    goal = pw.plan.goals.get()
    before = PlanChange.objects.filter(plan=pw.plan).count()
    plan_services.update_goal(goal=goal, by=pw.org.worker, status=Goal.Status.IN_PROGRESS)
    plan_services.add_milestone(
        goal=goal, by=pw.org.worker, description="Call the DMV", due_on=timezone.localdate()
    )
    changes = list(PlanChange.objects.filter(plan=pw.plan).order_by("pk"))[before:]
    assert [(c.action, c.field, c.old_value, c.new_value) for c in changes] == [
        ("goal_changed", "status", "not_started", "in_progress"),
        ("milestone_added", "", "", "Call the DMV"),
    ]
    assert all(c.changed_by == pw.org.worker and c.changed_at for c in changes)


def test_a_draft_changes_without_a_change_log(org_a):
    plan = plan_services.draft_plan(enrollment=enrolled(org_a), by=org_a.worker)
    plan_services.add_goal(
        plan=plan,
        by=org_a.worker,
        domain=Domain.EDUCATION,
        description="Finish my GED",
        target_on=timezone.localdate() + timedelta(days=100),
    )
    assert not PlanChange.objects.filter(plan=plan).exists()


def test_a_new_version_keeps_the_old_one_read_only(pw):
    new = plan_services.start_new_version(plan=pw.plan, by=pw.org.worker)
    old = LifePlan.objects.get(pk=pw.plan.pk)
    assert (old.status, new.status, new.version) == ("superseded", "draft", 2)
    assert new.goals.get().milestones.filter(met_on__isnull=False).count() == 3
    with pytest.raises(ServiceError, match="read only"):
        plan_services.add_goal(
            plan=old,
            by=pw.org.worker,
            domain=Domain.OTHER,
            description="x",
            target_on=timezone.localdate(),
        )
    with pytest.raises(ServiceError, match="read only"):
        plan_services.mark_milestone_met(milestone=pw.open[0], by=pw.org.worker)


def test_goal_text_is_required_and_statuses_are_checked(pw):
    goal = pw.plan.goals.get()
    with pytest.raises(ServiceError, match="Describe the goal"):
        plan_services.update_goal(goal=goal, by=pw.org.worker, description="   ")
    with pytest.raises(ServiceError, match="status"):
        plan_services.update_goal(goal=goal, by=pw.org.worker, status="finished")


def test_a_milestone_is_met_once_and_not_in_the_future(pw):
    with pytest.raises(ServiceError, match="already met"):
        plan_services.mark_milestone_met(milestone=pw.met[0], by=pw.org.worker)
    with pytest.raises(ServiceError, match="future"):
        plan_services.mark_milestone_met(
            milestone=pw.open[0], by=pw.org.worker, on=timezone.localdate() + timedelta(days=1)
        )


def test_review_moves_the_review_date(pw):
    plan_services.review_plan(plan=pw.plan, by=pw.org.worker)
    with pytest.raises(ServiceError, match="before the last review"):
        plan_services.review_plan(
            plan=pw.plan, by=pw.org.worker, on=timezone.localdate() - timedelta(days=1)
        )


def test_session_progress_ticks_milestones_of_the_people_in_the_session(pw, org_b):
    session = SessionFactory(
        organization=pw.org.organization,
        worker=pw.org.worker,
        participants=[pw.enrollment.participant],
    )
    plan_services.record_session_progress(
        session=session, by=pw.org.worker, worked_on=[pw.open[0]], met=[pw.open[1]]
    )
    progress = {p.milestone_id: p.met for p in MilestoneProgress.objects.filter(session=session)}
    assert progress == {pw.open[0].pk: False, pw.open[1].pk: True}
    pw.open[1].refresh_from_db()
    assert pw.open[1].met_in_session == session
    assert pw.open[1].met_on == timezone.localtime(session.occurred_at).date()
    someone_else = SessionFactory(organization=pw.org.organization, worker=pw.org.worker)
    with pytest.raises(ServiceError, match="not in the session"):
        plan_services.record_session_progress(
            session=someone_else, by=pw.org.worker, met=[pw.open[0]]
        )


def test_the_finance_role_has_its_group_and_no_model_permission(org_a):
    user = make_finance(org_a, "fin")
    assert set(user.groups.values_list("name", flat=True)) == {FINANCE_GROUP}
    assert not Group.objects.get(name=FINANCE_GROUP).permissions.exists()
    fresh = type(user).objects.get(pk=user.pk)
    assert selectors.user_roles(fresh) == {selectors.FINANCE}
