"""Forms: validate and normalise input only."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from interventions.date_bounds import validate_date_in_range
from interventions.models import Area
from metrics.models import Measure


class OutcomeUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: area,period,measure,count,source (and optionally note). UTF-8, 5 MB at most."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def _parse_month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        month_start = date(year, month, 1)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError("Enter a month as YYYY-MM, for example 2021-01.") from error
    # The dashboard steps a month past the last one: 9999-12 would overflow (issue 13).
    validate_date_in_range(month_start)
    return month_start


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value: object) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        return _parse_month(text)


class DashboardForm(forms.Form):
    area = forms.ModelChoiceField(
        queryset=Area.objects.all(), to_field_name="slug", empty_label=None
    )
    measures = forms.MultipleChoiceField(
        choices=Measure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen shows homicides and non-fatal shootings.",
    )
    start = MonthField(label="From month")
    end = MonthField(label="To month")
    baseline_year = forms.IntegerField(min_value=1900, max_value=2200)
    comparison_year = forms.IntegerField(min_value=1900, max_value=2200)
    compare_area = forms.ModelChoiceField(
        queryset=Area.objects.all(),
        to_field_name="slug",
        required=False,
        label="Second area to compare",
        empty_label="(none)",
    )

    activity = forms.ChoiceField(
        label="Program activity shown",
        choices=[
            ("area", "Participants living in this area (and the areas within it)"),
            ("all", "Every participant, wherever they live or if unrecorded"),
        ],
        initial="area",
    )

    DEFAULT_MEASURES = (Measure.HOMICIDE.value, Measure.NONFATAL_SHOOTING.value)
    MAX_MONTHS = 20 * 12

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                self.add_error("end", "The last month is before the first month.")
            elif (end.year - start.year) * 12 + end.month - start.month >= self.MAX_MONTHS:
                self.add_error("end", "Choose a range of 20 years at most.")
        if not data.get("measures"):
            data["measures"] = list(self.DEFAULT_MEASURES)
        baseline, comparison = data.get("baseline_year"), data.get("comparison_year")
        if baseline is not None and comparison is not None and baseline == comparison:
            self.add_error("comparison_year", "Choose a comparison year other than the baseline.")
        area, compare_area = data.get("area"), data.get("compare_area")
        if area is not None and compare_area is not None and area == compare_area:
            self.add_error("compare_area", "Choose a different area to compare with.")
        return data
