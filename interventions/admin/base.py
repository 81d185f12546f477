"""What every model admin of the app shares: the CSV export action, the base admin, the
edit-conflict check, links, autocomplete widgets seeded from the page's rows, the inlines, and
the rule that narrative notes are never looked up here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from interventions.accounts import admin_notes_guard as notes_guard
from interventions.audit import record
from interventions.csv_export import stream_csv

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


@admin.action(description=_("Export selected rows as CSV"), permissions=["view"])
def export_as_csv(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> StreamingHttpResponse:
    """The selected rows, with the changelist's columns and headers. The queryset is the
    changelist's own (its select_related included), so the export is no query per row."""
    columns = [name for name in model_admin.get_list_display(request) if name != "action_checkbox"]
    # Downloaded files keep English headings, whatever the language of the page.
    with translation.override("en"):
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


# The notes guard lives with the admin site, which puts it in front of every model admin it
# registers (django.contrib.auth's included, registered before this package is importable).
NotesNeverLookedUp = notes_guard.NotesNeverLookedUp
guarded = notes_guard.guarded
