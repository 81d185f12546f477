"""The Django admin: the city program admins' interface to partners, programs and case records.

Every changelist and inline loads its related rows with the page (list_select_related,
select_related, autocomplete widgets seeded from those rows), so a page costs the same number
of queries for 5 rows as for 10,000. Writes that have rules go through services.py via the
forms in admin_forms.py. Narrative case notes are never shown here: the admin is a city-wide
view, and notes stay with the organisation that wrote them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import ngettext

from interventions import services
from interventions.admin_forms import (
    EnrollmentAddForm,
    EnrollmentChangeForm,
    ParticipantAdminForm,
    ReferralAddForm,
    ReferralChangeForm,
    ServiceRoutedForm,
    SessionAddForm,
    SessionChangeForm,
)
from interventions.audit import record
from interventions.audit.admin_views import RecordsRecordViews
from interventions.csv_export import stream_csv
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

TIMESTAMPS = ("created_at", "updated_at")


# CSV export, an action on every model admin ---------------------------------------------------


def _export_cell(model_admin: admin.ModelAdmin, obj: models.Model, name: str) -> object:
    field, _attr, value = lookup_field(name, obj, model_admin)
    if field is not None and getattr(field, "flatchoices", None):
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, SafeString):
        return strip_tags(value)
    return value


@admin.action(description="Export selected rows as CSV", permissions=["view"])
def export_as_csv(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> StreamingHttpResponse:
    """The selected rows, with the changelist's columns and headers. The queryset is the
    changelist's own (its select_related included), so the export is no query per row."""
    columns = [name for name in model_admin.get_list_display(request) if name != "action_checkbox"]
    header = [
        capfirst(str(label_for_field(name, model_admin.model, model_admin))) for name in columns
    ]

    def rows() -> Iterator[Sequence[object]]:
        for obj in queryset.iterator(chunk_size=1000):
            yield [_export_cell(model_admin, obj, name) for name in columns]

    opts = model_admin.model._meta
    filename = f"{opts.model_name}-{timezone.localdate():%Y-%m-%d}.csv"
    # Which rows left is metadata, not personal data: the model and how many were selected.
    record(
        request,
        "export",
        object_type=f"{opts.model_name}_export",
        format="csv",
        model=opts.label,
        selected=len(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)),
    )
    return stream_csv(filename, header, rows())


# Offered on every model admin of the site, including those registered by other modules.
admin.site.add_action(export_as_csv)


class BaseAdmin(admin.ModelAdmin):
    # Timestamps are shown on the change page and never edited.
    readonly_fields: Sequence[str] = TIMESTAMPS


class EditConflictAdminMixin:
    """The change page carries the record's version in a hidden input (drawn by the template,
    outside the fieldsets); the form (EditConflictFormMixin) refuses a save over someone else's
    newer one."""

    change_form_template = "admin/interventions/edit_conflict_change_form.html"


def _admin_link(obj: models.Model | None, text: object | None = None) -> str:
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


# Inlines --------------------------------------------------------------------------------------


class SeededAutocompleteSelect(AutocompleteSelect):
    """An autocomplete whose selected option can be labelled from a row the page already loaded,
    instead of the stock widget's lookup query for each row of an inline."""

    seeded: dict[str, str] | None = None

    def optgroups(self, name: str, value: list[str], attrs: Any = None) -> list:
        wanted = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not wanted or self.seeded is None or not set(wanted) <= self.seeded.keys():
            return super().optgroups(name, value, attrs)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for option_value in wanted:
            options.append(
                self.create_option(
                    name, option_value, self.seeded[option_value], True, len(options)
                )
            )
        return [(None, options, 0)]


class SeededInlineFormSet(BaseInlineFormSet):
    """Hands each existing row's related objects (loaded by the inline's select_related) to its
    autocomplete widgets."""

    def _construct_form(self, i: int, **kwargs: Any) -> ModelForm:
        form = super()._construct_form(i, **kwargs)
        instance = form.instance
        if instance.pk is None:
            return form
        for name, field in form.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, SeededAutocompleteSelect):
                related = getattr(instance, name, None)
                if related is not None:
                    key = str(getattr(instance, widget.field.attname))
                    widget.seeded = {key: str(related)}
        return form


class EditableInline(admin.TabularInline):
    """An editable inline whose page costs no query per row."""

    formset = SeededInlineFormSet
    extra = 0
    select_related: Sequence[str] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related(*self.select_related)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SeededAutocompleteSelect(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyInline(admin.TabularInline):
    """A list of related records with links to their own change pages, where their writes go
    through the services."""

    extra = 0
    can_delete = False
    show_change_link = True
    select_related: Sequence[str] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related(*self.select_related)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(EditableInline):
    model = Membership
    fields = ("user", "role", "is_active")
    autocomplete_fields = ("user",)
    select_related = ("user", "organization")
    ordering = ("user__username",)


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
    verbose_name_plural = "Enrolments (open one from Enrolments → Add)"


class AttendanceInline(ReadOnlyInline):
    model = SessionParticipant
    verbose_name = "session"
    verbose_name_plural = "Sessions"
    fields = readonly_fields = ("session_link", "kind", "occurred_at", "duration", "worker")
    select_related = ("session__worker",)
    ordering = ("-occurred_at",)
    show_change_link = False

    @admin.display(description="Session")
    def session_link(self, obj: SessionParticipant) -> str:
        return _admin_link(obj.session, f"Session #{obj.session_id}")

    @admin.display(description="Kind")
    def kind(self, obj: SessionParticipant) -> str:
        return obj.session.get_kind_display()

    @admin.display(description="Minutes")
    def duration(self, obj: SessionParticipant) -> int:
        return obj.session.duration_minutes

    @admin.display(description="Worker")
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

    @admin.display(description="Provider")
    def provider(self, obj: Referral) -> str:
        return obj.provider_name


class AttendeeInline(ReadOnlyInline):
    model = SessionParticipant
    verbose_name = "participant"
    verbose_name_plural = "Participants (fixed when the session is logged)"
    fields = readonly_fields = ("participant_link", "participant_organization")
    select_related = ("participant__organization",)
    show_change_link = False

    @admin.display(description="Participant")
    def participant_link(self, obj: SessionParticipant) -> str:
        return _admin_link(obj.participant)

    @admin.display(description="Organisation")
    def participant_organization(self, obj: SessionParticipant) -> str:
        return str(obj.participant.organization)


class StatusHistoryInline(ReadOnlyInline):
    model = EnrollmentStatusChange
    fields = readonly_fields = ("changed_on", "from_status", "to_status", "changed_by", "note")
    select_related = ("enrollment__participant", "enrollment__program", "changed_by")
    show_change_link = False
    verbose_name_plural = "Status history"


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

    @admin.display(description="Active members", ordering="active_member_count")
    def active_members(self, obj: PartnerOrganization) -> int:
        return obj.active_member_count

    @admin.action(description="Deactivate selected organisations", permissions=["change"])
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
    """An admin whose add and change forms write through services (see admin_forms.py)."""

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
            "Person",
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
            "Risk and referral",
            {
                "fields": (
                    "risk_tier",
                    "referral_source",
                    ("identified_on", "notified_on", "engaged_on"),
                )
            },
        ),
        ("Record", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
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
                    "Open an enrolment",
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
            ("Lifecycle", {"fields": self.LIFECYCLE}),
            (
                "Change the status",
                {"fields": ("new_status", "status_on", "exit_with_reason", "note")},
            ),
            ("Record", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
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

    list_display = ("enrollment", "from_status", "to_status", "changed_on", "changed_by", "note")
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
        "note",
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

    @admin.display(description="Participants", ordering="attendee_total")
    def attendee_count(self, obj: Session) -> int:
        return obj.attendee_total

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                ("Who", {"fields": ("organization", "program", "worker", "attendees")}),
                (
                    "The contact",
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
            ("Who", {"fields": ("organization", "program", "worker")}),
            (
                "The contact",
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
            ("Record", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
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

    @admin.display(description="Provider")
    def provider(self, obj: Referral) -> str:
        return obj.provider_name

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                (
                    "Make a referral",
                    {"fields": (*self.SET_WHEN_MADE, "made_on")},
                ),
            )
        return (
            (None, {"fields": self.SET_WHEN_MADE}),
            ("Lifecycle", {"fields": self.LIFECYCLE}),
            ("Change the status", {"fields": ("new_status", "status_on", "new_outcome")}),
            ("Record", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        if obj is None:
            return TIMESTAMPS
        return (*self.SET_WHEN_MADE, *self.LIFECYCLE, *TIMESTAMPS)


# The shooting-response models and the access-control admins register themselves.
from interventions import admin_access, admin_response  # noqa: E402, F401
