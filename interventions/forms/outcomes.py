"""Forms for demographics, outcome events, assessments, the risk tier and the funder report.
They validate and normalise; the rules are in outcome_services.py."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interventions.date_bounds import BoundedDateField
from interventions.forms.widgets import DateInput
from interventions.models import Participant, PartnerOrganization
from interventions.models.outcomes import (
    DECLINED,
    UNKNOWN,
    Gender,
    InstrumentVersion,
    Item,
    Language,
    OutcomeEvent,
    RaceEthnicity,
)
from interventions.selectors.funder_report import previous_quarter, quarter_of
from interventions.services.outcomes import TIER_REASON_MIN_LENGTH

NOT_RECORDED = [("", _("Not recorded"))]


class DemographicsForm(forms.Form):
    gender = forms.ChoiceField(
        choices=NOT_RECORDED + list(Gender.choices), required=False, label=_("Gender")
    )
    race_ethnicity = forms.MultipleChoiceField(
        label=_("Race and ethnicity"),
        choices=RaceEthnicity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every one the person names."),
    )
    preferred_language = forms.ChoiceField(
        choices=NOT_RECORDED + list(Language.choices), required=False, label=_("Preferred language")
    )

    def clean_race_ethnicity(self) -> list[str]:
        values = self.cleaned_data["race_ethnicity"]
        if len(values) > 1 and {DECLINED, UNKNOWN} & set(values):
            raise forms.ValidationError(
                _("“Declined to answer” and “Unknown” cannot be ticked with another answer.")
            )
        return values


class OutcomeEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happened"), choices=OutcomeEvent.Kind.choices)
    detail = forms.ChoiceField(
        choices=[("", "—"), *list(OutcomeEvent.Detail.choices)],
        required=False,
        help_text=_("For an injury: how. For a credential: which."),
        label=_("Detail"),
    )
    occurred_on = BoundedDateField(label=_("On"), widget=DateInput())
    source = forms.ChoiceField(label=_("Learnt from"), choices=OutcomeEvent.Source.choices)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Seen only by your organisation."),
        label=_("Notes"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, detail = cleaned.get("kind"), cleaned.get("detail")
        if kind and detail and detail not in OutcomeEvent.DETAILS_OF_KIND.get(kind, ()):
            self.add_error("detail", _("That detail does not fit what happened."))
        day = cleaned.get("occurred_on")
        if day and day > timezone.localdate():
            self.add_error("occurred_on", _("An outcome cannot be dated in the future."))
        return cleaned


class VictimizationForm(forms.Form):
    source = forms.ChoiceField(
        label=_("Learnt from"),
        choices=OutcomeEvent.Source.choices,
        initial=OutcomeEvent.Source.WORKER_OBSERVED,
    )


class RiskTierForm(forms.Form):
    tier = forms.TypedChoiceField(
        label=_("Risk tier"), choices=Participant.RiskTier.choices, coerce=int
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        min_length=TIER_REASON_MIN_LENGTH,
        help_text=_("Why, since this is not from an assessment. Seen only by your organisation."),
        label=_("Reason"),
    )


class AssessmentForm(forms.Form):
    """One field per item of the version, in its order; values are the item's points."""

    assessed_on = BoundedDateField(label=_("Assessed on"), widget=DateInput())
    apply_tier = forms.BooleanField(
        label=_("Set the risk tier from the result"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, version: InstrumentVersion, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("assessed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.version = version
        self.items = list(version.items.select_related("scale").prefetch_related("choices"))
        if version.tier_1_min_scales is None and version.tier_2_min_scales is None:
            del self.fields["apply_tier"]
        for item in self.items:
            if item.kind == Item.Kind.YES_NO:
                choices = [(1, _("Yes")), (0, _("No"))]
            elif item.kind == Item.Kind.SCALE:
                choices = [(n, str(n)) for n in range((item.max_value or 0) + 1)]
            else:
                choices = [(c.points, c.label) for c in item.choices.all()]
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                help_text=item.scale.name,
            )

    def answers(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[f"item_{item.pk}"] for item in self.items}


QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_choices(today: date, count: int = 8) -> list[tuple[str, str]]:
    choices = []
    start, _ = quarter_of(today)
    for _ in range(count):
        quarter = (start.month - 1) // 3 + 1
        choices.append((f"{start.year}-Q{quarter}", f"{start.year} Q{quarter}"))
        start, _ = previous_quarter(start)
    return choices


class ReportForm(forms.Form):
    """A quarter, or any range of dates; and for a city admin, one organisation or all."""

    quarter = forms.ChoiceField(
        required=False, help_text=_("Or choose dates below."), label=_("Quarter")
    )
    start = BoundedDateField(required=False, widget=DateInput(), label=_("Start"))
    end = BoundedDateField(required=False, widget=DateInput(), label=_("End"))
    org = forms.ChoiceField(label=_("Organisation"), required=False)

    def __init__(
        self, *args: Any, organizations: list[PartnerOrganization], allow_all: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["quarter"].choices = [("", _("Dates below")), *quarter_choices(today)]
        org_choices = [(org.slug, org.name) for org in organizations]
        if allow_all:
            org_choices.insert(0, ("", _("All partner organisations")))
        self.fields["org"].choices = org_choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        quarter, start, end = cleaned.get("quarter"), cleaned.get("start"), cleaned.get("end")
        if quarter:
            match = QUARTER.match(quarter)
            if match:
                first = date(int(match[1]), 3 * int(match[2]) - 2, 1)
                cleaned["start"], cleaned["end"] = quarter_of(first)
        elif start is None and end is None:
            cleaned["start"], cleaned["end"] = previous_quarter(timezone.localdate())
        elif start is None or end is None:
            raise forms.ValidationError(_("Choose a quarter, or both a first and a last day."))
        elif end < start:
            self.add_error("end", _("The last day must be on or after the first."))
        elif (end - start).days > 3 * 366:
            self.add_error("end", _("Choose at most three years."))
        return cleaned
