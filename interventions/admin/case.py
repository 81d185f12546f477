"""The case records in the admin: areas, organisations, memberships, programs, participants,
enrolments, sessions and referrals.

Every changelist and inline loads its related rows with the page (list_select_related,
select_related, autocomplete widgets seeded from those rows), so a page costs the same number
of queries for 5 rows as for 10,000. Writes that have rules go through the services via the
forms in admin/forms.py. Narrative case notes are never shown here: the admin is a city-wide
view, and notes stay with the organisation that wrote them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from interventions.admin.base import (
    TIMESTAMPS,
    BaseAdmin,
    EditableInline,
    EditConflictAdminMixin,
    ReadOnlyInline,
    _admin_link,
)
from interventions.admin.forms import (
    EnrollmentAddForm,
    EnrollmentChangeForm,
    MembershipAdminForm,
    ParticipantAdminForm,
    ReferralAddForm,
    ReferralChangeForm,
    ServiceRoutedForm,
    SessionAddForm,
    SessionChangeForm,
)
from interventions.audit.admin_views import RecordsRecordViews
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

# Offered on every model admin of the site, including those registered by other modules.


# Inlines --------------------------------------------------------------------------------------


class MembershipInline(EditableInline):
    model = Membership
    form = MembershipAdminForm
    fields = ("user", "role", "is_active")
    autocomplete_fields = ("user",)
    select_related = ("user", "organization")
    ordering = ("user__username",)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.acting_user = request.user
        return formset


class ProgramInline(EditableInline):
    model = Program
    fields = ("name", "slug", "kind", "area", "is_active")
    autocomplete_fields = ("area",)
    select_related = ("area",)
    show_change_link = True
    ordering = ("name",)


class EnrollmentInline(ReadOnlyInline):
    model = Enrollment
    fields = readonly_fields = (
        "program",
        "status",
        "assigned_worker",
        "referred_on",
        "enrolled_on",
        "exited_on",
        "exit_reason",
    )
    select_related = ("participant", "program", "assigned_worker")
    verbose_name_plural = _("Enrolments (open one from Enrolments → Add)")


class AttendanceInline(ReadOnlyInline):
    model = SessionParticipant
    verbose_name = _("session")
    verbose_name_plural = _("Sessions")
    fields = readonly_fields = ("session_link", "kind", "occurred_at", "duration", "worker")
    select_related = ("session__worker",)
    ordering = ("-occurred_at",)
    show_change_link = False

    @admin.display(description=_("Session"))
    def session_link(self, obj: SessionParticipant) -> str:
        return _admin_link(obj.session, f"Session #{obj.session_id}")

    @admin.display(description=_("Kind"))
    def kind(self, obj: SessionParticipant) -> str:
        return obj.session.get_kind_display()

    @admin.display(description=_("Minutes"))
    def duration(self, obj: SessionParticipant) -> int:
        return obj.session.duration_minutes

    @admin.display(description=_("Worker"))
    def worker(self, obj: SessionParticipant) -> str:
        return str(obj.session.worker)


class ReferralInline(ReadOnlyInline):
    model = Referral
    fk_name = "participant"
    fields = readonly_fields = (
        "service_category",
        "provider",
        "status",
        "made_on",
        "closed_on",
        "made_by",
    )
    select_related = ("participant", "to_organization", "made_by")

    @admin.display(description=_("Provider"))
    def provider(self, obj: Referral) -> str:
        return obj.provider_name


class AttendeeInline(ReadOnlyInline):
    model = SessionParticipant
    verbose_name = _("participant")
    verbose_name_plural = _("Participants (fixed when the session is logged)")
    fields = readonly_fields = ("participant_link", "participant_organization")
    select_related = ("participant__organization",)
    show_change_link = False

    @admin.display(description=_("Participant"))
    def participant_link(self, obj: SessionParticipant) -> str:
        return _admin_link(obj.participant)

    @admin.display(description=_("Organisation"))
    def participant_organization(self, obj: SessionParticipant) -> str:
        return str(obj.participant.organization)


class StatusHistoryInline(ReadOnlyInline):
    model = EnrollmentStatusChange
    fields = readonly_fields = ("changed_on", "from_status", "to_status", "changed_by")
    select_related = ("enrollment__participant", "enrollment__program", "changed_by")
    show_change_link = False
    verbose_name_plural = _("Status history")


# Reference data and people --------------------------------------------------------------------


@admin.register(Area)
class AreaAdmin(BaseAdmin):
    list_display = ("name", "kind", "parent", "slug")
    list_filter = ("kind",)
    list_select_related = ("parent",)
    search_fields = ("name", "slug")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)


@admin.register(PartnerOrganization)
class PartnerOrganizationAdmin(BaseAdmin):
    list_display = ("name", "kind", "is_active", "active_members", "phone", "email")
    list_filter = ("is_active", "kind", "areas_served")
    search_fields = ("name", "slug", "email")
    autocomplete_fields = ("areas_served",)
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)
    inlines = (MembershipInline, ProgramInline)
    actions = ["deactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_member_count=Count(
                    "memberships", filter=Q(memberships__is_active=True), distinct=True
                )
            )
        )

    @admin.display(description=_("Active members"), ordering="active_member_count")
    def active_members(self, obj: PartnerOrganization) -> int:
        return obj.active_member_count

    @admin.action(description=_("Deactivate selected organisations"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.deactivate_organizations(organizations=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d organisation deactivated; its memberships were ended.",
                "%(count)d organisations deactivated; their memberships were ended.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Membership)
class MembershipAdmin(BaseAdmin):
    form = MembershipAdminForm
    list_display = ("user", "organization", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "organization")
    list_select_related = ("user", "organization")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "organization__name",
    )
    autocomplete_fields = ("user", "organization")
    ordering = ("organization__name", "user__username")

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.acting_user = request.user
        return form


@admin.register(Program)
class ProgramAdmin(BaseAdmin):
    list_display = ("name", "organization", "kind", "area", "is_active")
    list_filter = ("is_active", "kind", "organization")
    list_select_related = ("organization", "area")
    search_fields = ("name", "slug", "organization__name")
    autocomplete_fields = ("organization", "area")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("organization__name", "name")


# Case records ---------------------------------------------------------------------------------


class ServiceRoutedAdmin(BaseAdmin):
    """An admin whose add and change forms write through services (see admin/forms.py)."""

    add_form: type[ModelForm]
    change_form: type[ModelForm]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        kwargs["form"] = self.change_form if obj is not None else self.add_form
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ServiceRoutedForm):
            # modelform_factory made this class for this request alone.
            form.acting_user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if not isinstance(form, ServiceRoutedForm):
            super().save_model(request, obj, form, change)
            return
        saved = form.perform()
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False


@admin.register(Participant)
class ParticipantAdmin(RecordsRecordViews, EditConflictAdminMixin, BaseAdmin):
    form = ParticipantAdminForm
    list_display = (
        "participant_code",
        "last_name",
        "first_name",
        "aliases",
        "organization",
        "area",
        "risk_tier",
        "referral_source",
        "identified_on",
        "engaged_on",
    )
    list_display_links = ("participant_code", "last_name")
    list_filter = ("organization", "risk_tier", "referral_source", "area")
    list_select_related = ("organization", "area")
    search_fields = ("participant_code", "first_name", "last_name", "aliases")
    autocomplete_fields = ("organization", "area")
    ordering = ("last_name", "first_name", "id")
    show_full_result_count = False
    inlines = (EnrollmentInline, AttendanceInline, ReferralInline)
    fieldsets = (
        (None, {"fields": ("organization", "participant_code")}),
        (
            _("Person"),
            {
                "fields": (
                    ("first_name", "last_name"),
                    "aliases",
                    "date_of_birth",
                    "phone",
                    "area",
                )
            },
        ),
        (
            _("Risk and referral"),
            {
                "fields": (
                    "risk_tier",
                    "referral_source",
                    ("identified_on", "notified_on", "engaged_on"),
                )
            },
        ),
        (_("Record"), {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )

    def get_inlines(self, request: HttpRequest, obj: Any) -> Sequence[type]:
        return self.inlines if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: Participant, form: ModelForm, change: bool
    ) -> None:
        if not obj.participant_code:
            # The row lock on the organisation keeps two admins from taking the same number.
            PartnerOrganization.objects.select_for_update().filter(pk=obj.organization_id).first()
            obj.participant_code = services.next_participant_code(obj.organization)
        super().save_model(request, obj, form, change)


@admin.register(Enrollment)
class EnrollmentAdmin(EditConflictAdminMixin, ServiceRoutedAdmin):
    add_form = EnrollmentAddForm
    change_form = EnrollmentChangeForm
    list_display = (
        "participant",
        "program",
        "status",
        "assigned_worker",
        "referred_on",
        "enrolled_on",
        "exited_on",
        "exit_reason",
    )
    list_filter = ("status", "exit_reason", "program__organization", "program")
    list_select_related = ("participant", "program", "assigned_worker")
    search_fields = (
        "participant__participant_code",
        "participant__first_name",
        "participant__last_name",
        "program__name",
        "assigned_worker__username",
    )
    autocomplete_fields = ("participant", "program", "assigned_worker")
    date_hierarchy = "referred_on"
    ordering = ("-referred_on", "-id")
    show_full_result_count = False
    inlines = (StatusHistoryInline,)

    LIFECYCLE = (
        "status",
        "referred_on",
        "contacted_on",
        "engaged_on",
        "enrolled_on",
        "active_on",
        "inactive_on",
        "exited_on",
        "exit_reason",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                (
                    _("Open an enrolment"),
                    {
                        "fields": (
                            "participant",
                            "program",
                            "assigned_worker",
                            "status",
                            "referred_on",
                        )
                    },
                ),
            )
        return (
            (None, {"fields": ("participant", "program", "assigned_worker")}),
            (_("Lifecycle"), {"fields": self.LIFECYCLE}),
            (
                _("Change the status"),
                {"fields": ("new_status", "status_on", "exit_with_reason", "note")},
            ),
            (_("Record"), {"fields": TIMESTAMPS, "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        if obj is None:
            return TIMESTAMPS
        readonly = ("participant", "program", *self.LIFECYCLE, *TIMESTAMPS)
        if not obj.is_open:
            readonly = ("assigned_worker", *readonly)
        return readonly

    def get_inlines(self, request: HttpRequest, obj: Any) -> Sequence[type]:
        return self.inlines if obj is not None else ()


@admin.register(EnrollmentStatusChange)
class EnrollmentStatusChangeAdmin(BaseAdmin):
    """The history is written by the services only."""

    list_display = ("enrollment", "from_status", "to_status", "changed_on", "changed_by")
    list_filter = ("to_status", "changed_on")
    list_select_related = ("enrollment__participant", "enrollment__program", "changed_by")
    search_fields = (
        "enrollment__participant__participant_code",
        "enrollment__participant__last_name",
        "enrollment__program__name",
    )
    readonly_fields = (
        "enrollment",
        "from_status",
        "to_status",
        "changed_on",
        "changed_at",
        "changed_by",
    )
    date_hierarchy = "changed_on"
    ordering = ("-changed_on", "-changed_at")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("enrollment__participant", "enrollment__program", "changed_by")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(ServiceRoutedAdmin):
    add_form = SessionAddForm
    change_form = SessionChangeForm
    list_display = (
        "occurred_at",
        "kind",
        "organization",
        "program",
        "worker",
        "attendee_count",
        "duration_minutes",
        "location",
        "follow_up_on",
    )
    list_filter = ("kind", "location", "organization", "program")
    list_select_related = ("organization", "program", "worker")
    search_fields = (
        "worker__username",
        "worker__last_name",
        "organization__name",
        "=participants__participant_code",
    )
    autocomplete_fields = ("organization", "program", "worker")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False
    inlines = (AttendeeInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(attendee_total=Count("attendance"))

    @admin.display(description=_("Participants"), ordering="attendee_total")
    def attendee_count(self, obj: Session) -> int:
        return obj.attendee_total

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                (_("Who"), {"fields": ("organization", "program", "worker", "attendees")}),
                (
                    _("The contact"),
                    {
                        "fields": (
                            "kind",
                            "occurred_at",
                            "duration_minutes",
                            "location",
                            "follow_up_on",
                        )
                    },
                ),
            )
        return (
            (_("Who"), {"fields": ("organization", "program", "worker")}),
            (
                _("The contact"),
                {
                    "fields": (
                        "kind",
                        "occurred_at",
                        "duration_minutes",
                        "location",
                        "follow_up_on",
                    )
                },
            ),
            (_("Record"), {"fields": TIMESTAMPS, "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        if obj is None:
            return TIMESTAMPS
        # occurred_at is copied onto each attendance row; it is fixed once logged.
        return ("organization", "program", "worker", "occurred_at", *TIMESTAMPS)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Sequence[type]:
        return self.inlines if obj is not None else ()


@admin.register(Referral)
class ReferralAdmin(EditConflictAdminMixin, ServiceRoutedAdmin):
    add_form = ReferralAddForm
    change_form = ReferralChangeForm
    list_display = (
        "made_on",
        "participant",
        "service_category",
        "provider",
        "organization",
        "made_by",
        "status",
        "accepted_on",
        "closed_on",
    )
    list_filter = ("status", "service_category", "organization", "to_organization")
    list_select_related = ("participant", "organization", "to_organization", "made_by")
    search_fields = (
        "participant__participant_code",
        "participant__first_name",
        "participant__last_name",
        "outside_provider",
        "to_organization__name",
    )
    autocomplete_fields = ("participant", "organization", "to_organization", "made_by")
    date_hierarchy = "made_on"
    ordering = ("-made_on", "-id")
    show_full_result_count = False

    SET_WHEN_MADE = (
        "participant",
        "organization",
        "made_by",
        "service_category",
        "to_organization",
        "outside_provider",
    )
    LIFECYCLE = ("status", "made_on", "accepted_on", "closed_on", "outcome")

    @admin.display(description=_("Provider"))
    def provider(self, obj: Referral) -> str:
        return obj.provider_name

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                (
                    _("Make a referral"),
                    {"fields": (*self.SET_WHEN_MADE, "made_on")},
                ),
            )
        return (
            (None, {"fields": self.SET_WHEN_MADE}),
            (_("Lifecycle"), {"fields": self.LIFECYCLE}),
            (_("Change the status"), {"fields": ("new_status", "status_on", "new_outcome")}),
            (_("Record"), {"fields": TIMESTAMPS, "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        if obj is None:
            return TIMESTAMPS
        return (*self.SET_WHEN_MADE, *self.LIFECYCLE, *TIMESTAMPS)


# The shooting-response models and the access-control admins register themselves.
