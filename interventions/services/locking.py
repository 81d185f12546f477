"""Two people editing the same record do not silently overwrite each other.

An edit form carries the `updated_at` of the record as it was drawn (a hidden `version` field).
The write locks the row (`select_for_update`, inside the write's transaction) and compares: if
someone saved the record in between, the write is refused with `RecordChanged`, nothing is
saved, and the form is drawn again with what the person typed, the differences and the new
version, so saving again is a deliberate choice made after seeing the other person's change.

Every write to these records moves `updated_at` (auto_now on save, set explicitly in the
services' bulk updates), which is what makes it a version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interventions.errors import RecordChanged

M = TypeVar("M", bound=models.Model)

VERSION_FIELD = "version"


def version_of(instance: models.Model) -> str:
    """The record's version as the form carries it: its updated_at in UTC, to the microsecond
    (PostgreSQL keeps microseconds, so the round trip is exact)."""
    updated_at: datetime = instance.updated_at  # type: ignore[attr-defined]
    return updated_at.astimezone(UTC).isoformat()


def parse_version(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else None


class VersionField(forms.CharField):
    """The hidden field that carries the record's version. Cleans to an aware datetime."""

    widget = forms.HiddenInput
    default_error_messages = {
        "required": _("This form is out of date: reload the page and make your changes again."),
        "invalid": _("This form is out of date: reload the page and make your changes again."),
    }

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        parsed = parse_version(text)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


def lock_unchanged(queryset: models.QuerySet[M], pk: Any, expected: datetime | None) -> M:
    """The row, locked until the transaction ends, if it still has the version the form was
    drawn from; else RecordChanged. Call inside a transaction."""
    current = queryset.select_for_update(of=("self",)).get(pk=pk)
    if expected is None or current.updated_at != expected:  # type: ignore[attr-defined]
        raise RecordChanged(current, who=last_changed_by(current))
    return current


def last_changed_by(instance: models.Model) -> str:
    """Who made the last recorded change to the record, from the audit trail (one indexed
    query); empty when the trail does not say."""
    from interventions.audit.models import AuditEvent

    event = (
        AuditEvent.objects.filter(
            object_type=instance._meta.model_name,
            object_id=instance.pk,
            action__in=[AuditEvent.Action.UPDATE, AuditEvent.Action.CREATE],
        )
        .exclude(username="")
        .order_by("-occurred_at", "-id")
        .values_list("username", flat=True)
        .first()
    )
    return event or ""


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return str(value)


def differences(
    current: models.Model, form: forms.BaseForm, names: list[str]
) -> list[dict[str, str]]:
    """For each named form field whose typed value differs from the saved one: its label, the
    saved value and the typed value, as text for the page."""
    rows = []
    for name in names:
        if name not in form.fields:
            continue
        field = form.fields[name]
        try:
            typed = field.clean(field.widget.value_from_datadict(form.data, form.files, name))
        except forms.ValidationError:
            typed = form.data.get(form.add_prefix(name), "")
        saved = getattr(current, name)
        if typed in (None, "") and saved in (None, ""):
            continue
        if typed == saved:
            continue
        model_field = current._meta.get_field(name)
        choices = dict(model_field.flatchoices) if model_field.choices else {}
        rows.append(
            {
                "label": str(field.label or model_field.verbose_name).capitalize(),
                "saved": _display(choices.get(saved, saved)),
                "typed": _display(choices.get(typed, typed)),
            }
        )
    return rows


def surface_version_error(form: forms.BaseForm) -> None:
    """The version field is hidden, so its error would be drawn nowhere: show it on the form.
    Call from the form's clean()."""
    errors = form.errors.pop(VERSION_FIELD, None)
    if errors:
        form.add_error(None, errors)


def with_new_version(form: forms.BaseForm, current: models.Model) -> None:
    """Redraw the bound form with what was typed and the current version, so saving it again
    applies the person's version over the other one (knowingly)."""
    data = form.data.copy()
    data[form.add_prefix(VERSION_FIELD)] = version_of(current)
    form.data = data


class EditConflictFormMixin(forms.Form):
    """For ModelForms of the Django admin: the change form carries the version and refuses a
    save over someone else's newer one. The check runs in clean(), inside the admin's
    transaction, and its row lock holds until the save commits. (A Form, so that `version` is
    a declared field the admin may list in its fieldsets.)"""

    version = VersionField(required=False)
    conflict_fields: list[str] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None:
            self.fields[VERSION_FIELD].initial = version_of(instance)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        surface_version_error(self)
        instance = getattr(self, "instance", None)
        # A change page always sends the version; a post without one (a script, an old page)
        # is not checked rather than refused.
        expected = cleaned.get(VERSION_FIELD)
        if instance is None or instance.pk is None or expected is None:
            return cleaned
        try:
            lock_unchanged(type(instance)._default_manager.all(), instance.pk, expected)
        except RecordChanged as changed:
            names = [n for n in self.fields if n != VERSION_FIELD and hasattr(changed.current, n)]
            rows = differences(changed.current, self, names)
            detail = "; ".join(
                _("%(label)s: now “%(saved)s”") % {"label": r["label"], "saved": r["saved"]}
                for r in rows
            )
            message = changed.messages[0]
            if detail:
                message += " " + _("Saved values that differ from this form: %(detail)s.") % {
                    "detail": detail
                }
            with_new_version(self, changed.current)
            raise forms.ValidationError(message, code="record_changed") from changed
        return cleaned
