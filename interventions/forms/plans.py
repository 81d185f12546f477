"""Forms for plans and the incentive ledger. They validate and normalise input; the rules are in
plan_services.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils import dateformat, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from interventions.date_bounds import BoundedDateField
from interventions.forms.single_submit import SingleSubmitFormMixin
from interventions.forms.widgets import DateInput
from interventions.models.plans import (
    Domain,
    FundingSource,
    Goal,
    IncentiveEntry,
    LifePlan,
    Milestone,
    PlanTemplate,
)
from interventions.selectors import plans as plan_selectors
from interventions.services.plans import DESCRIPTION_MAX_LENGTH, month_of


class MilestoneChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Milestone) -> str:  # type: ignore[override]
        return gettext("%(description)s (due %(due_on)s)") % {
            "description": obj.description,
            "due_on": dateformat.format(obj.due_on, "M j"),
        }


def add_progress_fields(form: forms.Form, user: AbstractBaseUser) -> None:
    """The session form's optional step: milestones worked on and met. Choices are limited to
    milestones of plans the user reads; the page lists those of the people picked."""
    milestones = plan_selectors.milestones_visible_to(user).filter(met_on__isnull=True)
    for name, label in (("milestones_worked", _("Worked on")), ("milestones_met", _("Met"))):
        form.fields[name] = MilestoneChoiceField(
            queryset=milestones,
            required=False,
            label=label,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": _("Choose milestones of the people in the session.")},
        )


class PlanStartForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=PlanTemplate.objects.none(),
        required=False,
        empty_label=_("Start from a blank plan"),
        label=_("Start from"),
    )

    def __init__(self, *args: Any, program_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PlanTemplate.objects.filter(
            program_id=program_id, is_active=True
        )


class GoalForm(SingleSubmitFormMixin, forms.Form):
    domain = forms.ChoiceField(choices=Domain.choices, label=_("Domain"))
    description = forms.CharField(
        label=_("The goal, in the participant's words"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    target_on = BoundedDateField(label=_("Target date"), widget=DateInput)


class GoalEditForm(forms.Form):
    domain = GoalForm.base_fields["domain"]
    description = GoalForm.base_fields["description"]
    target_on = GoalForm.base_fields["target_on"]
    status = forms.ChoiceField(choices=Goal.Status.choices, label=_("Status"))


class MilestoneForm(SingleSubmitFormMixin, forms.Form):
    description = forms.CharField(
        label=_("Milestone"), max_length=DESCRIPTION_MAX_LENGTH, widget=forms.TextInput()
    )
    due_on = BoundedDateField(label=_("Due"), widget=DateInput)


class DayForm(forms.Form):
    on = BoundedDateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m")


class IncentiveRequestForm(forms.Form):
    milestones = MilestoneChoiceField(
        queryset=Milestone.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Met milestones it is for"),
        error_messages={"required": _("Choose the met milestones the incentive is for.")},
    )
    month = BoundedDateField(
        widget=MonthInput(),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        initial=timezone.localdate,
        label=_("Month"),
    )
    amount = forms.DecimalField(
        label=_("Amount ($)"),
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    funding_source = forms.ChoiceField(choices=FundingSource.choices, label=_("Funding source"))

    def __init__(self, *args: Any, plan: LifePlan, sources: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["milestones"].queryset = (
            Milestone.objects.filter(goal__plan=plan, met_on__isnull=False)
            .exclude(pk__in=plan_selectors.paid_or_pending_milestone_ids(plan))
            .order_by("due_on", "pk")
        )
        choices = [(value, label) for value, label in FundingSource.choices if value in sources]
        self.fields["funding_source"].choices = choices or FundingSource.choices

    def clean_month(self) -> date:
        return month_of(self.cleaned_data["month"])

    @property
    def amount_cents(self) -> int:
        # Decimal to whole cents, exactly; the field allows no more than two decimals.
        return int(self.cleaned_data["amount"] * 100)


class DeclineForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_("Why is it declined?"))


class PaidForm(forms.Form):
    paid_on = BoundedDateField(label=_("Paid on"), widget=DateInput, initial=timezone.localdate)
    method = forms.ChoiceField(choices=IncentiveEntry.Method.choices, label=_("Method"))
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text=_("Check number, card or transfer reference."),
        label=_("Reference"),
    )


class LedgerFilterForm(forms.Form):
    month = BoundedDateField(
        required=False, widget=MonthInput(), input_formats=["%Y-%m", "%Y-%m-%d"], label=_("Month")
    )
    funding_source = forms.ChoiceField(
        choices=[("", _("All sources")), *FundingSource.choices],
        required=False,
        label=_("Funding source"),
    )
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *IncentiveEntry.Status.choices],
        required=False,
        label=_("Status"),
    )
