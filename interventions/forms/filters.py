"""The manager's filters (django-filter) and forms. A FilterSet is built for one organisation, so
every choice it offers (programs, workers) is that organisation's own."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from interventions.date_bounds import validate_date_in_range
from interventions.forms.widgets import ListSelect
from interventions.models import (
    Area,
    Enrollment,
    Participant,
    PartnerOrganization,
    Referral,
    Session,
)
from interventions.selectors import manager as manager_selectors
from interventions.selectors import worker as worker_selectors

Status = Enrollment.Status

CASELOAD = "caseload"
OPEN = "open"
STATUS_CHOICES = [
    (CASELOAD, _("In a caseload (referred to active)")),
    (OPEN, _("Open (not exited)")),
    *Status.choices,
]
UNASSIGNED = "none"

# The lifecycle order, so "sort by status" reads referred, contacted, ... exited.
STATUS_RANK = Case(
    *[When(status=status, then=Value(rank)) for rank, status in enumerate(Status.values)],
    output_field=IntegerField(),
)

SORTS = {
    "name": _("Name"),
    "last_contact": _("Last contact"),
    "days_since": _("Days since contact"),
    "worker": _("Worker"),
    "status": _("Status"),
}
SORT_CHOICES = [
    choice
    for key, label in SORTS.items()
    for choice in ((key, label), (f"-{key}", format_lazy("{} ↓", label)))
]


def _worker_choices(organization: PartnerOrganization) -> list[tuple[str, str]]:
    people = manager_selectors.assignable_or_assigned_workers(organization)
    return [
        (UNASSIGNED, _("Unassigned")),
        *((str(person.pk), person.get_full_name() or person.username) for person in people),
    ]


class FilterBoundField(forms.BoundField):
    """A filter field drawn by one small template (Bootstrap's label, control and error
    markup, as the crispy pack draws it) with its CSS classes set here: the filter forms sit on
    every list page, and crispy's general field template cost more than the list itself."""

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        classes = ["form-select" if isinstance(widget, forms.Select) else "form-control"]
        if self.errors:
            classes.append("is-invalid")
        attrs["class"] = " ".join([attrs.get("class", ""), *classes]).strip()
        return attrs

    def as_field_group(self) -> str:
        return render_to_string(FILTER_FIELD_TEMPLATE, {"field": self})


FILTER_FIELD_TEMPLATE = "forms/filter_field.html"


class FilterForm(forms.Form):
    """The form of the manager's filters: plain Bootstrap fields, long selects drawn in Python."""

    bound_field_class = FilterBoundField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget = ListSelect(attrs=field.widget.attrs)
                field.widget.is_required = field.required
                field.widget.choices = field.choices


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ParticipantFilter(django_filters.FilterSet):
    """The manager's participant list, its CSV export and the dashboard's links all filter
    through this one class.

    Every filter names its label: a filter with a `method` and no model field of its name
    would otherwise be labelled "[invalid name]" by django-filter.

    Program, status and worker describe one enrolment together: "worker X, status active" finds
    people whose enrolment with X is active, not people with any enrolment with X and another
    one that is active."""

    q = django_filters.CharFilter(
        method="filter_search", label=_("Name, alias or code"), max_length=200
    )
    program = django_filters.ModelChoiceFilter(
        queryset=None, method="filter_enrollment", label=_("Program"), empty_label=_("Any program")
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_enrollment",
        label=_("Status"),
        empty_label=_("Any status"),
    )
    worker = django_filters.ChoiceFilter(
        choices=[], method="filter_enrollment", label=_("Worker"), empty_label=_("Any worker")
    )
    area = django_filters.ModelChoiceFilter(
        queryset=Area.objects.all(), field_name="area", empty_label=_("Any area")
    )
    cold = django_filters.ChoiceFilter(
        choices=[("yes", _("Gone cold")), ("no", _("In contact"))],
        method="filter_cold",
        label=_("Contact"),
        empty_label=_("Anyone"),
    )
    identified_from = django_filters.DateFilter(
        validators=[validate_date_in_range],
        field_name="identified_on",
        lookup_expr="gte",
        label=_("Identified from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    identified_to = django_filters.DateFilter(
        validators=[validate_date_in_range],
        field_name="identified_on",
        lookup_expr="lte",
        label=_("Identified to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="sort_by", label=_("Sort by"), empty_label=_("Name")
    )

    class Meta:
        model = Participant
        fields: list[str] = []
        form = FilterForm

    def __init__(self, *args: Any, organization: PartnerOrganization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.filters["program"].queryset = organization.programs.order_by("name")
        self.filters["worker"].extra["choices"] = _worker_choices(organization)

    def enrollment_q(self) -> Q:
        """The enrolment the filters describe, always one in the organisation's own programs
        (empty Q when they describe none)."""
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        condition = Q()
        if data.get("program"):
            condition &= Q(program=data["program"])
        status = data.get("status")
        if status == CASELOAD:
            condition &= Q(status__in=Enrollment.CASELOAD_STATUSES)
        elif status == OPEN:
            condition &= ~Q(status=Status.EXITED)
        elif status:
            condition &= Q(status=status)
        worker = data.get("worker")
        if worker == UNASSIGNED:
            condition &= Q(assigned_worker__isnull=True)
        elif worker:
            condition &= Q(assigned_worker_id=int(worker))
        if condition:
            condition &= Q(program__organization=self.organization)
        return condition

    def filter_queryset(self, queryset: QuerySet[Participant]) -> QuerySet[Participant]:
        queryset = super().filter_queryset(queryset)
        condition = self.enrollment_q()
        if condition:
            queryset = queryset.filter(
                Exists(Enrollment.objects.filter(condition, participant=OuterRef("pk")))
            )
        if not self.form.cleaned_data.get("sort"):
            queryset = self.sort_by(queryset, "sort", "name")
        return queryset

    def filter_enrollment(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        # Applied together in filter_queryset.
        return queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return worker_selectors.search_participants(queryset, value)

    def filter_cold(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.filter(worker_selectors.gone_cold_q())
        return queryset.exclude(worker_selectors.gone_cold_q())

    def sort_by(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        key = value.removeprefix("-")
        descending = value.startswith("-")
        # By the organisation's own enrolments: another organisation's worker or status is
        # not what this list is about.
        ours = Enrollment.objects.filter(
            participant=OuterRef("pk"), program__organization=self.organization
        )
        open_enrollments = ours.exclude(status=Status.EXITED)
        if key == "worker":
            queryset = queryset.annotate(
                worker_sort=Subquery(
                    open_enrollments.filter(assigned_worker__isnull=False)
                    .annotate(
                        worker_name=Concat(
                            "assigned_worker__first_name",
                            Value(" "),
                            "assigned_worker__last_name",
                            Value(" "),
                            "assigned_worker__username",
                        )
                    )
                    .order_by("worker_name")
                    .values("worker_name")[:1]
                )
            )
            expression = F("worker_sort")
        elif key == "status":
            queryset = queryset.annotate(
                status_rank=Subquery(
                    ours.annotate(rank=STATUS_RANK).order_by("rank").values("rank")[:1]
                )
            )
            expression = F("status_rank")
        elif key == "last_contact":
            # Never contacted counts as the longest ago.
            order = F("last_contact_at")
            first = order.desc(nulls_last=True) if descending else order.asc(nulls_first=True)
            return queryset.order_by(first, "last_name", "first_name", "pk")
        elif key == "days_since":
            order = F("days_since_last_contact")
            first = order.desc(nulls_first=True) if descending else order.asc(nulls_last=True)
            return queryset.order_by(first, "last_name", "first_name", "pk")
        else:
            if descending:
                return queryset.order_by("-last_name", "-first_name", "-pk")
            return queryset.order_by("last_name", "first_name", "pk")
        first = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        return queryset.order_by(first, "last_name", "first_name", "pk")


class SessionFilter(django_filters.FilterSet):
    """The organisation's sessions: by worker, date range, kind and program."""

    worker = django_filters.ChoiceFilter(
        choices=[], method="filter_worker", empty_label=_("Anyone")
    )
    occurred_from = django_filters.DateFilter(
        validators=[validate_date_in_range],
        method="filter_from",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    occurred_to = django_filters.DateFilter(
        validators=[validate_date_in_range],
        method="filter_to",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    kind = django_filters.ChoiceFilter(choices=Session.Kind.choices, empty_label=_("Any kind"))
    program = django_filters.ModelChoiceFilter(queryset=None, empty_label=_("Any program"))

    class Meta:
        model = Session
        fields: list[str] = []
        form = FilterForm

    def __init__(self, *args: Any, organization: PartnerOrganization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["program"].queryset = organization.programs.order_by("name")
        self.filters["worker"].extra["choices"] = _worker_choices(organization)[1:]

    def filter_worker(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(worker_id=int(value))

    # Whole local days, compared as instants so the (organization, occurred_at) index is used.
    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(occurred_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(occurred_at__lt=_day_start(value + timedelta(days=1)))


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("waiting", _("Waiting (made or accepted)")), *Referral.Status.choices],
        method="filter_status",
        empty_label=_("Any status"),
    )
    service_category = django_filters.ChoiceFilter(
        choices=Referral.ServiceCategory.choices, empty_label=_("Any service")
    )
    made_by = django_filters.ChoiceFilter(
        choices=[], method="filter_made_by", label=_("Made by"), empty_label=_("Anyone")
    )

    class Meta:
        model = Referral
        fields: list[str] = []
        form = FilterForm

    def __init__(self, *args: Any, organization: PartnerOrganization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["made_by"].extra["choices"] = _worker_choices(organization)[1:]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "waiting":
            return queryset.filter(status__in=Referral.WAITING_STATUSES)
        return queryset.filter(status=value)

    def filter_made_by(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(made_by_id=int(value))


class AssignWorkersForm(forms.Form):
    """Assign one or many enrolments (ticked in the participant list) to a worker."""

    enrollments = forms.ModelMultipleChoiceField(
        queryset=Enrollment.objects.none(),
        error_messages={
            "required": _("Tick at least one enrolment to assign."),
            "invalid_choice": _("One of the ticked enrolments is not in your organisation."),
            "invalid_pk_value": _("One of the ticked enrolments is not in your organisation."),
        },
    )
    worker = forms.ModelChoiceField(
        queryset=Enrollment.objects.none(),
        empty_label=_("Choose a worker"),
        # Beside the filters' own worker select on the participant list, hence its own id.
        widget=ListSelect(attrs={"id": "id_worker_assign", "class": "form-select"}),
        error_messages={
            "required": _("Choose the worker to assign."),
            "invalid_choice": _("That worker is not a member of your organisation."),
        },
    )

    def __init__(
        self,
        *args: Any,
        enrollments: QuerySet[Enrollment],
        organization: PartnerOrganization,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrollments"].queryset = enrollments.select_related("participant", "program")
        self.fields["worker"].queryset = worker_selectors.workers_of(organization)
        self.fields["worker"].label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )
