"""Forms: validate and normalise input only."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from interventions.date_bounds import validate_date_in_range
from interventions.models import Area, PartnerOrganization
from metrics.extract import MIN_KEY_LENGTH
from metrics.models import Measure
from metrics.services import EvaluationInputs


class OutcomeUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: area,period,measure,count,source (and optionally note). UTF-8, 5 MB at most."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def _parse_month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        month_start = date(year, month, 1)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError(_("Enter a month as YYYY-MM, for example 2021-01.")) from error
    # The dashboard steps a month past the last one: 9999-12 would overflow (issue 13).
    validate_date_in_range(month_start)
    return month_start


def _check_month_range(form: forms.Form, data: dict[str, object], *, max_months: int) -> None:
    """The "end" month not before "start", and the range no longer than max_months."""
    start, end = data.get("start"), data.get("end")
    if isinstance(start, date) and isinstance(end, date):
        if end < start:
            form.add_error("end", _("The last month is before the first month."))
        elif (end.year - start.year) * 12 + end.month - start.month >= max_months:
            years = max_months // 12
            form.add_error(
                "end",
                ngettext(
                    "Choose a range of %(years)s year at most.",
                    "Choose a range of %(years)s years at most.",
                    years,
                )
                % {"years": years},
            )


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value: object) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        return _parse_month(text)


class DashboardForm(forms.Form):
    area = forms.ModelChoiceField(
        queryset=Area.objects.all(), to_field_name="slug", empty_label=None, label=_("Area")
    )
    measures = forms.MultipleChoiceField(
        choices=Measure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen shows homicides and non-fatal shootings."),
        label=_("Measures"),
    )
    start = MonthField(label=_("From month"))
    end = MonthField(label=_("To month"))
    baseline_year = forms.IntegerField(min_value=1900, max_value=2200, label=_("Baseline year"))
    comparison_year = forms.IntegerField(min_value=1900, max_value=2200, label=_("Comparison year"))
    compare_area = forms.ModelChoiceField(
        queryset=Area.objects.all(),
        to_field_name="slug",
        required=False,
        label=_("Second area to compare"),
        empty_label=_("(none)"),
    )

    activity = forms.ChoiceField(
        label=_("Program activity shown"),
        choices=[
            ("area", _("Participants living in this area (and the areas within it)")),
            ("all", _("Every participant, wherever they live or if unrecorded")),
        ],
        initial="area",
    )

    DEFAULT_MEASURES = (Measure.HOMICIDE.value, Measure.NONFATAL_SHOOTING.value)
    MAX_MONTHS = 20 * 12

    def clean(self) -> dict[str, object]:
        data = super().clean()
        _check_month_range(self, data, max_months=self.MAX_MONTHS)
        if not data.get("measures"):
            data["measures"] = list(self.DEFAULT_MEASURES)
        baseline, comparison = data.get("baseline_year"), data.get("comparison_year")
        if baseline is not None and comparison is not None and baseline == comparison:
            self.add_error(
                "comparison_year", _("Choose a comparison year other than the baseline.")
            )
        area, compare_area = data.get("area"), data.get("compare_area")
        if area is not None and compare_area is not None and area == compare_area:
            self.add_error("compare_area", _("Choose a different area to compare with."))
        return data


class EvaluateForm(forms.Form):
    """The Evaluate page's question. `areas` is what the viewer may evaluate (every area for
    the city and analysts, the served areas for a manager); comparison areas may be any area,
    since outcome figures are public."""

    # Plain choices of slugs, read in one query each when the form is made: the page renders
    # them on every view, and the question needs only the slugs.
    area = forms.ChoiceField(choices=[], label=_("Program area"))
    measure = forms.ChoiceField(
        choices=Measure.choices, initial=Measure.HOMICIDE, label=_("Measure")
    )
    start = MonthField(
        label=_("Program start (intervention month)"),
        help_text=_("The first month the program ran: the model's “after” begins here."),
    )
    window_from = MonthField(
        label=_("Window from"), required=False, help_text=_("Empty: the first monthly figure.")
    )
    window_to = MonthField(
        label=_("Window to"), required=False, help_text=_("Empty: the last monthly figure.")
    )
    comparisons = forms.MultipleChoiceField(
        choices=[],
        required=False,
        label=_("Comparison areas"),
        help_text=_("Similar areas without the program (difference-in-differences). Optional."),
    )
    trend = forms.BooleanField(required=False, label=_("Linear trend (months since the start)"))
    slope_change = forms.BooleanField(
        required=False, label=_("Change in trend at the start (brings a trend with it)")
    )
    negbin = forms.BooleanField(required=False, label=_("Negative binomial instead of Poisson"))
    population_offset = forms.BooleanField(
        required=False, label=_("Rates: offset by the area's population")
    )

    def __init__(self, *args: object, areas: QuerySet[Area], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["area"].choices = list(areas.order_by("name").values_list("slug", "name"))  # type: ignore[attr-defined]
        self.fields["comparisons"].choices = list(  # type: ignore[attr-defined]
            Area.objects.order_by("name").values_list("slug", "name")
        )
        # Bootstrap classes on the widgets: the page renders them without crispy-forms (see
        # templates/metrics/_plain_fields.html).
        for field in self.fields.values():
            widget = field.widget
            css = (
                "form-check-input"
                if isinstance(widget, forms.CheckboxInput)
                else "form-select"
                if isinstance(widget, forms.Select)
                else "form-control"
            )
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def clean(self) -> dict[str, object]:
        data = super().clean()
        first, last = data.get("window_from"), data.get("window_to")
        if isinstance(first, date) and isinstance(last, date) and last < first:
            self.add_error("window_to", _("The last month is before the first month."))
        area, comparisons = data.get("area"), data.get("comparisons")
        if area is not None and comparisons and area in comparisons:
            self.add_error("comparisons", _("The program area cannot be its own comparison."))
        return data

    def inputs(self) -> EvaluationInputs:
        data = self.cleaned_data
        first, last = data.get("window_from"), data.get("window_to")
        return EvaluationInputs(
            area=data["area"],
            measure=data["measure"],
            start=f"{data['start']:%Y-%m}",
            window_from=f"{first:%Y-%m}" if first else None,
            window_to=f"{last:%Y-%m}" if last else None,
            comparisons=tuple(sorted(data["comparisons"])),
            trend=data["trend"],
            slope_change=data["slope_change"],
            negbin=data["negbin"],
            population_offset=data["population_offset"],
        )


class ExtractForm(forms.Form):
    """The evaluator extract's parameters. The key is made fresh for each new extract (shown
    once, never stored); entering an earlier extract's key links the two."""

    organizations = forms.ModelMultipleChoiceField(
        queryset=PartnerOrganization.objects.order_by("name"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        label=_("Organisations"),
    )
    start = MonthField(label=_("From month"))
    end = MonthField(label=_("To month"))
    key = forms.CharField(
        label=_("Pseudonym key"),
        min_length=MIN_KEY_LENGTH,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Keep this key somewhere safe and give it to nobody with the file: it is not stored "
            "anywhere. Enter the same key for a later extract to give every person the same "
            "pseudonymous id in both."
        ),
    )

    MAX_MONTHS = 10 * 12

    def clean(self) -> dict[str, object]:
        data = super().clean()
        _check_month_range(self, data, max_months=self.MAX_MONTHS)
        return data


class ClaimsForm(forms.Form):
    area = forms.ModelChoiceField(
        queryset=Area.objects.all(), to_field_name="slug", empty_label=None, label=_("Area")
    )
    measure = forms.ChoiceField(
        choices=Measure.choices, initial=Measure.HOMICIDE, label=_("Measure")
    )
    program_start = MonthField(
        label=_("Program start (optional)"),
        required=False,
        help_text=_("Shows the model-based estimate beside the comparison with 2019."),
    )
