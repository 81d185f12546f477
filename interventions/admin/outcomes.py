"""Admin registrations of the assessment instruments (imported from the end of admin.py): a city
admin defines an instrument, its versions, their scales, items and choices here.

A version that has been answered is frozen: it and its scales, items and choices are read-only
here, and the action "Make a new version from it" copies it into a draft to change. Answered
assessments, outcome events and demographics are case data: they are not in the admin at all,
so their free text can be neither shown nor searched there."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from interventions.models.outcomes import Instrument, InstrumentVersion, Item, ItemChoice, Scale
from interventions.services import outcomes as outcome_services


def _answered(obj: Any) -> bool:
    """Whether the version this object belongs to has been answered."""
    if obj is None:
        return False
    version = obj if isinstance(obj, InstrumentVersion) else getattr(obj, "version", None)
    if version is None and isinstance(obj, ItemChoice):
        version = obj.item.version
    return version is not None and outcome_services.version_is_answered(version)


class FrozenWhenAnsweredInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_delete_permission(request, obj)


class VersionInline(admin.TabularInline):
    model = InstrumentVersion
    extra = 0
    fields = ("number", "is_published", "eligible_min_scales", "created_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ("name", "is_example", "is_active")
    list_filter = ("is_example", "is_active")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [VersionInline]


class ScaleInline(FrozenWhenAnsweredInline):
    model = Scale
    fields = ("position", "code", "name", "cutoff")


class ItemInline(FrozenWhenAnsweredInline):
    model = Item
    fields = ("position", "scale", "text", "kind", "max_value")
    show_change_link = True

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only the scales of the version being edited.
        if db_field.name == "scale":
            version_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            kwargs["queryset"] = Scale.objects.filter(version_id=version_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(admin.ModelAdmin):
    list_display = ("instrument", "number", "is_published", "eligible_min_scales")
    list_filter = ("is_published", "instrument")
    list_select_related = ("instrument",)
    inlines = [ScaleInline, ItemInline]
    actions = ["make_new_version"]
    readonly_fields = ("created_at",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_delete_permission(request, obj)

    @admin.action(description=_("Make a new (draft) version from it"), permissions=["add"])
    def make_new_version(self, request: HttpRequest, queryset: QuerySet) -> None:
        for version in queryset.select_related("instrument"):
            copy = outcome_services.copy_version(version=version)
            self.message_user(
                request,
                gettext("%(version)s made as a draft.") % {"version": copy},
                messages.SUCCESS,
            )


class ItemChoiceInline(FrozenWhenAnsweredInline):
    model = ItemChoice
    fields = ("position", "label", "points")


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("text", "version", "scale", "kind")
    list_select_related = ("version__instrument", "scale")
    list_filter = ("kind",)
    search_fields = ("text",)
    inlines = [ItemChoiceInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _answered(obj) and super().has_delete_permission(request, obj)
