"""THE DOOR: who may reach what. Every read of case or response data made on behalf of a user
starts from one of the `*_visible_to(user)` / `*_editable_by(user)` functions here, which scope
it to the organisations the user belongs to; outsiders get nothing, so pages that fetch through
them answer 404. The `can_*` predicates answer the yes/no questions (may this user manage the
response, see street intelligence, read these notes), and `views/guards.py` turns them into the
decorators that decide who may open a page. Nothing else decides access.

Roles: an organisation role (outreach worker, manager) is held per organisation by a
Membership; the Django group of the same name follows the memberships (sync_role_groups), so
the admin's user list shows who holds which role. The city admin and analyst roles are held by
group alone (groups created by migration 0004_consent_and_roles). The staff flag grants no role.

Sharing: another organisation's participant is visible while a valid consent covers one of the
user's organisations (granted on or before today, not expired, not revoked), or while the user
holds an emergency override for that person. Free text stays with the organisation that wrote
it: every free-text field listed in `interventions/notes.py` comes blank for everyone else from
the functions here (see `with_notes_for`), whatever the page, partial or export.

Shooting response: an incident is city-wide information; city admins see every one, anybody
else only the incidents that concern their organisations (entered by them, involving one of
their participants, or giving them a response task). A response task belongs to the
participant's organisation: its managers see it, a worker sees the tasks assigned to them.
Street groups, ties and conflicts need the `view_street_intelligence` permission, and a tie is
shown only when its participant is visible too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.db.models.query import ModelIterable
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from interventions.models import (
    CallIn,
    Consent,
    ConsentOverride,
    CustomNotification,
    Enrollment,
    EnrollmentStatusChange,
    GroupConflict,
    GroupTie,
    Incident,
    IncidentParticipant,
    Membership,
    Participant,
    PartnerOrganization,
    Referral,
    ResponseTask,
    ReviewDecision,
    Session,
    SessionParticipant,
    ShootingReview,
    StreetGroup,
)
from interventions.notes import free_text_fields
from interventions.notes import written_by as notes_written_by

CITY_ADMIN = "city_admin"
ANALYST = "analyst"
MANAGER = Membership.Role.MANAGER.value
OUTREACH_WORKER = Membership.Role.OUTREACH_WORKER.value
FINANCE = Membership.Role.FINANCE.value
AnyUser = AbstractBaseUser | AnonymousUser

OUTREACH_WORKER_GROUP = "Outreach worker"
MANAGER_GROUP = "Manager"
CITY_ADMIN_GROUP = "City admin"
ANALYST_GROUP = "Analyst"
FINANCE_GROUP = "Finance"

MEMBERSHIP_GROUPS = {
    Membership.Role.OUTREACH_WORKER.value: OUTREACH_WORKER_GROUP,
    Membership.Role.MANAGER.value: MANAGER_GROUP,
    Membership.Role.FINANCE.value: FINANCE_GROUP,
}

VIEW_AGGREGATES_PERMISSION = "interventions.view_aggregate_metrics"
OVERRIDE_CONSENT_PERMISSION = "interventions.override_consent"
STREET_INTELLIGENCE_PERMISSION = "interventions.view_street_intelligence"


# Roles ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessFacts:
    """What the user may reach, read in one query and kept on the user object for the request:
    their roles, the participants of other organisations open to them (valid consent to one of
    their organisations, or their own emergency override), and whether any of their own
    organisations' participants has ever been shared (only then can another organisation have
    logged sessions with them)."""

    roles: frozenset[str]
    shared_participant_ids: frozenset[int]
    shares_out: bool


def access_facts(user: AnyUser) -> AccessFacts:
    if not user.is_authenticated or not user.is_active:
        return AccessFacts(frozenset(), frozenset(), False)
    cached = getattr(user, "_gvr_access", None)
    if cached is not None:
        return cached
    group_roles = {CITY_ADMIN_GROUP: CITY_ADMIN, ANALYST_GROUP: ANALYST}
    organizations = organizations_of(user)

    def tagged(queryset: QuerySet, tag: str, value: object) -> QuerySet:
        return queryset.order_by().values_list(
            Value(tag, output_field=CharField()), Cast(value, CharField())
        )

    rows = tagged(
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True),
        "role",
        F("role"),
    ).union(
        tagged(Group.objects.filter(user=user, name__in=list(group_roles)), "group", F("name")),
        tagged(consents_covering(organizations), "shared", F("participant_id")),
        tagged(active_overrides(user), "shared", F("participant_id")),
        tagged(
            Consent.objects.filter(participant__organization__in=organizations),
            "out",
            Value(""),
        )[:1],
    )
    roles, shared, shares_out = set(), set(), False
    for tag, value in rows:
        if tag == "role":
            roles.add(value)
        elif tag == "group":
            roles.add(group_roles[value])
        elif tag == "shared":
            shared.add(int(value))
        else:
            shares_out = True
    if user.is_superuser:
        roles.add(CITY_ADMIN)
    facts = AccessFacts(frozenset(roles), frozenset(shared), shares_out)
    user._gvr_access = facts  # type: ignore[union-attr]
    return facts


def user_roles(user: AnyUser) -> frozenset[str]:
    """The roles a user holds in any active organisation, plus city admin for superusers and
    members of the City admin group, and analyst for members of the Analyst group.

    The staff flag alone grants no role: it opens the admin's door, and what a staff user may
    do there, or see on the city-wide pages, comes from their groups (least privilege)."""
    return access_facts(user).roles


def managed_organizations(
    user: AnyUser, *, city_wide: bool = False
) -> QuerySet[PartnerOrganization]:
    """The active organisations the user manages, by name.

    An organisation's own pages (caseloads, workers, reassignment, exports) are for its
    managers only. The shooting response is directed city-wide: with `city_wide=True` a city
    admin manages every active organisation (incidents, tasks, reviews, call-ins, the funnel)."""
    if city_wide and is_city_admin(user):
        return PartnerOrganization.objects.filter(is_active=True).order_by("name", "pk")
    return organizations_of(user, role=MANAGER).order_by("name", "pk")


@transaction.atomic
def sync_role_groups(*, user: AbstractBaseUser) -> None:
    """Put the user in the group of each role they hold in an active membership of an active
    organisation, and out of the groups of the roles they no longer hold."""
    held = set(
        Membership.objects.filter(
            user=user, is_active=True, organization__is_active=True
        ).values_list("role", flat=True)
    )
    groups = {
        group.name: group for group in Group.objects.filter(name__in=MEMBERSHIP_GROUPS.values())
    }
    wanted = [groups[MEMBERSHIP_GROUPS[role]] for role in held if MEMBERSHIP_GROUPS[role] in groups]
    unwanted = [group for group in groups.values() if group not in wanted]
    user.groups.add(*wanted)
    user.groups.remove(*unwanted)


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _membership_changed(sender: type, instance: Membership, **kwargs: object) -> None:
    sync_role_groups(user=instance.user)


# Users ----------------------------------------------------------------------------------------


def can_change_user(actor: AnyUser, target: AbstractBaseUser) -> bool:
    """Whether the actor may change, deactivate, delete or set the password of `target`: a
    superuser anybody; nobody else a superuser, nor a user holding a right the actor does not
    hold (a city admin could otherwise take over a stronger account by its password)."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    if target.is_superuser:  # type: ignore[attr-defined]
        return False
    if target.pk == actor.pk:
        return True
    fresh = type(target)._default_manager.get(pk=target.pk)  # rights as stored, not as typed
    return fresh.get_all_permissions() <= actor.get_all_permissions()  # type: ignore[attr-defined]


def groups_grantable_by(actor: AnyUser) -> QuerySet[Group]:
    """The groups (roles) the actor may give someone else: those holding no right the actor
    lacks. Nobody gives themself one (the admin keeps a user's own groups read-only)."""
    if actor.is_superuser:
        return Group.objects.all()
    held = actor.get_all_permissions()  # type: ignore[union-attr]
    grantable = [
        group.pk
        for group in Group.objects.prefetch_related("permissions__content_type")
        if {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()} <= held
    ]
    return Group.objects.filter(pk__in=grantable)


def can_grant_membership(actor: AnyUser, member: AbstractBaseUser | None) -> bool:
    """Nobody gives themself a membership (a role in a partner organisation, and with it that
    organisation's case data): someone else must, and the trail shows who."""
    return member is None or member.pk != actor.pk


# Consent and case data ------------------------------------------------------------------------


def organizations_of(user: AnyUser, *, role: str | None = None) -> QuerySet[PartnerOrganization]:
    """Active organisations in which the user has an active membership (optionally in a role).
    Without a role, finance memberships do not count: finance staff reach the incentive ledger
    (selectors.plans.ledger_organizations) and no case record."""
    if not user.is_authenticated or not user.is_active:
        return PartnerOrganization.objects.none()
    memberships = Membership.objects.filter(user=user, is_active=True)
    if role is not None:
        memberships = memberships.filter(role=role)
    else:
        memberships = memberships.exclude(role=FINANCE)
    return PartnerOrganization.objects.filter(
        is_active=True, id__in=memberships.values("organization_id")
    )


def valid_consents(on: date | None = None) -> QuerySet[Consent]:
    """Consents in force on a day (today by default): granted on or before it, and neither
    expired nor revoked by then (expires_on and revoked_on are the first days without it)."""
    day = on or timezone.localdate()
    return Consent.objects.filter(
        Q(granted_on__lte=day),
        Q(expires_on__isnull=True) | Q(expires_on__gt=day),
        Q(revoked_on__isnull=True) | Q(revoked_on__gt=day),
    )


def consents_covering(
    organizations: QuerySet[PartnerOrganization], on: date | None = None
) -> QuerySet[Consent]:
    """Valid consents that share with one of these organisations: named, or "the city" when one
    of them is a city organisation."""
    is_city = Exists(organizations.filter(kind=PartnerOrganization.Kind.CITY))
    return valid_consents(on).filter(
        Q(organization__in=organizations) | (Q(scope=Consent.Scope.CITY) & Q(is_city))
    )


def consent_covers(
    participant: Participant, organization: PartnerOrganization, on: date | None = None
) -> bool:
    """Whether the organisation may work with the participant: it owns the record, or a valid
    consent shares it with the organisation."""
    if participant.organization_id == organization.pk:
        return True
    return (
        consents_covering(PartnerOrganization.objects.filter(pk=organization.pk), on)
        .filter(participant=participant)
        .exists()
    )


def active_overrides(user: AnyUser) -> QuerySet[ConsentOverride]:
    if not user.is_authenticated or not user.is_active:
        return ConsentOverride.objects.none()
    return ConsentOverride.objects.filter(user=user, expires_at__gt=timezone.now())


class _NotesRedactedIterable(ModelIterable):
    """Model instances whose free text (interventions/notes.py) is blanked unless the row says
    it may be read."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        fields = free_text_fields(self.queryset.model)
        for obj in super().__iter__():
            if not getattr(obj, "notes_readable", False):
                for name in fields:
                    setattr(obj, name, "")
            yield obj


def _notes_readable(model: type, user: AnyUser) -> Q:
    """THE notes rule, as a condition on the model's rows: the free text is the writing
    organisation's; a record written by no organisation (a city-wide review) is the city
    admins'; a model whose notes no organisation writes (override reasons) is nobody's."""
    path = notes_written_by(model)
    if path is None:
        return Q(pk__in=[])
    readable = Q(**{f"{path}__in": organizations_of(user)})
    if is_city_admin(user):
        readable |= Q(**{f"{path}__isnull": True})
    return readable


def with_notes_for(queryset: QuerySet, user: AnyUser) -> QuerySet:
    """The rows with every free-text field of the model (interventions/notes.py) kept only
    for whoever may read it: every row carries `notes_readable`, and the others come with
    those fields blank, however the queryset is later filtered, sliced or iterated."""
    if not free_text_fields(queryset.model):
        return queryset
    queryset = queryset.annotate(
        notes_readable=Case(
            When(_notes_readable(queryset.model, user), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    queryset._iterable_class = _NotesRedactedIterable
    return queryset


def can_read_notes(user: AnyUser, obj: object) -> bool:
    """Free text is for the organisation that wrote it, and nobody else."""
    readable = getattr(obj, "notes_readable", None)
    if readable is not None:
        return bool(readable)
    model = type(obj)
    return model._default_manager.filter(  # type: ignore[attr-defined]
        _notes_readable(model, user),
        pk=obj.pk,  # type: ignore[attr-defined]
    ).exists()


def participants_visible_to(user: AnyUser) -> QuerySet[Participant]:
    """The participants of the user's organisations, those another organisation shares with one
    of them under a valid consent, and those the user holds an emergency override for."""
    if not user.is_authenticated or not user.is_active:
        return Participant.objects.none()
    # The shared ids are read once per request (access_facts) and given as a list: an OR of
    # subqueries here would hide the organisation index from the planner on every page.
    visible = Q(organization__in=organizations_of(user))
    shared = access_facts(user).shared_participant_ids
    if shared:
        visible |= Q(pk__in=sorted(shared))
    return Participant.objects.filter(visible)


def enrollments_visible_to(user: AnyUser) -> QuerySet[Enrollment]:
    """Every enrolment of a visible participant, whichever organisation runs the program."""
    return Enrollment.objects.filter(participant__in=participants_visible_to(user))


def status_changes_visible_to(user: AnyUser) -> QuerySet[EnrollmentStatusChange]:
    """The status history of visible enrolments; status-change and exit notes are kept for
    the organisation running the program."""
    return with_notes_for(
        EnrollmentStatusChange.objects.filter(enrollment__in=enrollments_visible_to(user)), user
    )


def enrollments_editable_by(user: AnyUser) -> QuerySet[Enrollment]:
    """Visible enrolments in the programs of the user's organisations: a shared participant's
    enrolment elsewhere can be seen, not changed."""
    return enrollments_visible_to(user).filter(program__organization__in=organizations_of(user))


def sessions_visible_to(user: AnyUser) -> QuerySet[Session]:
    """Sessions the user's organisations logged, and sessions attended by a visible participant
    (a shared person's contacts elsewhere), notes kept for the organisation that wrote them."""
    if not user.is_authenticated or not user.is_active:
        return Session.objects.none()
    organizations = organizations_of(user)
    facts = access_facts(user)
    visible = Q(organization__in=organizations)
    if facts.shared_participant_ids:
        visible |= Q(
            pk__in=SessionParticipant.objects.filter(
                participant_id__in=sorted(facts.shared_participant_ids)
            ).values("session_id")
        )
    if facts.shares_out:
        # Another organisation may have met one of ours while a consent was in force.
        visible |= Exists(
            SessionParticipant.objects.filter(
                session=OuterRef("pk"), participant__organization__in=organizations
            )
        )
    return with_notes_for(Session.objects.filter(visible), user)


def referrals_visible_to(user: AnyUser) -> QuerySet[Referral]:
    """Referrals of visible participants, notes kept for the organisation that made them."""
    return with_notes_for(
        Referral.objects.filter(participant__in=participants_visible_to(user)), user
    )


def referrals_editable_by(user: AnyUser) -> QuerySet[Referral]:
    """Visible referrals the user's organisations made: only they follow them up."""
    return referrals_visible_to(user).filter(organization__in=organizations_of(user))


def sharing_organization_for(
    user: AnyUser, participants: Iterable[Participant]
) -> PartnerOrganization | None:
    """The organisation on whose behalf the user works with these participants: the one that
    owns them when the user belongs to it, otherwise the first of the user's organisations that
    a consent covers for every one of them. None: no organisation of the user may."""
    people = list(participants)
    organizations = list(organizations_of(user).order_by("name", "pk"))
    owners = {p.organization_id for p in people}
    for organization in organizations:
        if owners == {organization.pk}:
            return organization
    for organization in organizations:
        if all(consent_covers(p, organization) for p in people):
            return organization
    return None


# Shooting response ----------------------------------------------------------------------------


def is_city_admin(user: AnyUser) -> bool:
    return CITY_ADMIN in user_roles(user)


def can_see_street_intelligence(user: AnyUser) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.has_perm(STREET_INTELLIGENCE_PERMISSION)
    )


def can_manage_response(user: AnyUser) -> bool:
    """Enter incidents, see overdue tasks, hold the review, record call-ins and notifications."""
    roles = user_roles(user)
    return CITY_ADMIN in roles or MANAGER in roles


def incidents_visible_to(user: AnyUser) -> QuerySet[Incident]:
    if not user.is_authenticated or not user.is_active:
        return Incident.objects.none()
    if is_city_admin(user):
        return Incident.objects.all()
    organizations = organizations_of(user)
    concerns_us = Exists(
        IncidentParticipant.objects.filter(
            incident=OuterRef("pk"), participant__organization__in=organizations
        )
    ) | Exists(ResponseTask.objects.filter(incident=OuterRef("pk"), organization__in=organizations))
    return Incident.objects.filter(Q(organization__in=organizations) | concerns_us)


def response_tasks_visible_to(user: AnyUser) -> QuerySet[ResponseTask]:
    if not user.is_authenticated or not user.is_active:
        return ResponseTask.objects.none()
    if is_city_admin(user):
        return ResponseTask.objects.all()
    return ResponseTask.objects.filter(
        Q(organization__in=organizations_of(user, role=MANAGER))
        | Q(assigned_worker=user, organization__in=organizations_of(user))
    )


def involvements_visible_to(user: AnyUser, incident: Incident) -> QuerySet[IncidentParticipant]:
    """The people an incident involves, as far as the user may see them: a city admin every
    one, anybody else only the participants visible to them."""
    involvements = IncidentParticipant.objects.filter(incident=incident)
    if is_city_admin(user):
        return involvements
    return involvements.filter(participant__in=participants_visible_to(user))


def participants_an_incident_may_name(user: AnyUser) -> QuerySet[Participant]:
    """Whom an incident entered by the user may name: anybody for a city admin (incidents are
    city-wide information), the participants visible to them for anyone else."""
    if is_city_admin(user):
        return Participant.objects.all()
    return participants_visible_to(user)


def participants_of_managed_organizations(user: AnyUser) -> QuerySet[Participant]:
    """The participants of the organisations whose response work the user directs (call-in
    attendees, custom notifications): a city admin's are every active organisation's."""
    return Participant.objects.filter(organization__in=managed_organizations(user, city_wide=True))


def street_groups_visible_to(user: AnyUser) -> QuerySet[StreetGroup]:
    if not can_see_street_intelligence(user):
        return StreetGroup.objects.none()
    return StreetGroup.objects.select_related("area")


def group_ties_visible_to(user: AnyUser) -> QuerySet[GroupTie]:
    if not can_see_street_intelligence(user):
        return GroupTie.objects.none()
    ties = GroupTie.objects.select_related("participant", "group")
    if is_city_admin(user):
        return ties
    return ties.filter(participant__in=participants_visible_to(user))


def group_conflicts_visible_to(user: AnyUser) -> QuerySet[GroupConflict]:
    if not can_see_street_intelligence(user):
        return GroupConflict.objects.none()
    return GroupConflict.objects.select_related("group_a", "group_b")


def shooting_reviews_visible_to(user: AnyUser) -> QuerySet[ShootingReview]:
    if is_city_admin(user):
        return with_notes_for(ShootingReview.objects.all(), user)
    return with_notes_for(
        ShootingReview.objects.filter(organization__in=managed_organizations(user, city_wide=True)),
        user,
    )


def review_follow_ups_visible_to(user: AnyUser) -> QuerySet[ReviewDecision]:
    """The follow-ups of the reviews the user may see, their text kept as the review's."""
    return with_notes_for(
        ReviewDecision.objects.filter(review__in=shooting_reviews_visible_to(user)), user
    )


def call_ins_visible_to(user: AnyUser) -> QuerySet[CallIn]:
    if is_city_admin(user):
        return with_notes_for(CallIn.objects.all(), user)
    return with_notes_for(CallIn.objects.filter(organization__in=organizations_of(user)), user)


def custom_notifications_visible_to(user: AnyUser) -> QuerySet[CustomNotification]:
    if is_city_admin(user):
        return with_notes_for(CustomNotification.objects.all(), user)
    return with_notes_for(
        CustomNotification.objects.filter(organization__in=organizations_of(user)), user
    )
