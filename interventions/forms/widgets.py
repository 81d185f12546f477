"""Input widgets the forms share: the browser's own date and date-time pickers, and a select
for long lists of choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class ListSelect(forms.Select):
    """A select whose options are written in Python rather than through one template include
    per option: the manager's worker and program lists offer hundreds of choices at a county's
    largest organisation, and Django's per-option templates cost more than the rest of the
    page. Same markup and the same choice, selection and escaping rules as `forms.Select`
    (the first option whose value matches is selected, every value and label escaped); groups
    of options are not used by these forms."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> str:
        built = self.build_attrs(self.attrs, attrs)
        wanted = set(self.format_value(value))
        options = []
        chosen = False
        for option_value, option_label in self.choices:
            if isinstance(option_label, (list, tuple)):
                raise ValueError("ListSelect does not draw groups of options.")
            text = "" if option_value is None else str(option_value)
            selected = not chosen and text in wanted
            chosen = chosen or selected
            options.append(
                format_html(
                    '<option value="{}" selected>{}</option>\n'
                    if selected
                    else '<option value="{}">{}</option>\n',
                    text,
                    option_label,
                )
            )
        # In the order given, as Django's attrs.html writes them: True alone, False left out.
        attributes = format_html_join(
            "",
            "{}",
            (
                (format_html(" {}", key) if value is True else format_html(' {}="{}"', key, value),)
                for key, value in built.items()
                if value is not False
            ),
        )
        return format_html(
            '<select name="{}"{}>\n{}</select>',
            name,
            attributes,
            format_html_join("", "{}", ((option,) for option in options)),
        )
