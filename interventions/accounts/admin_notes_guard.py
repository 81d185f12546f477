"""The rule that no free-text field of case data (interventions/notes.py) is shown or looked up
in the Django admin, as a mixin the admin site puts in front of every model admin and inline.
It imports only django and interventions.notes, so the site can apply it while
django.contrib.auth registers its own admins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.http import HttpRequest

from interventions.notes import free_text_fields, reaches_free_text


def _without(names: Sequence[Any], hidden: frozenset[str]) -> list[Any]:
    """`names` (fields, columns, filters; a tuple for fields on one line, a (field, filter)
    pair for a list filter) less those naming a hidden field."""
    kept: list[Any] = []
    for entry in names:
        if isinstance(entry, (list, tuple)) and entry and not isinstance(entry[0], str):
            kept.append(entry)  # a (callable, …) pair: not a field name
        elif isinstance(entry, (list, tuple)) and len(entry) == 2 and not isinstance(entry[1], str):
            if entry[0] not in hidden:
                kept.append(entry)  # a (field, filter class) pair
        elif isinstance(entry, (list, tuple)):
            line = tuple(name for name in entry if name not in hidden)
            if line:
                kept.append(line)
        elif not (isinstance(entry, str) and entry in hidden):
            kept.append(entry)
    return kept


class NotesNeverLookedUp:
    """The admin is a city-wide view: no free-text field of case data (interventions/notes.py)
    is shown, edited, exported, searched, filtered or sorted on here. The admin site mixes this
    into every model admin and inline it registers (accounts/admin_site.py), so a new admin
    cannot forget it; `?notes__icontains=…` and lookups through a relation to a note
    (`?enrollment__status_changes__note__icontains=…`) are refused with a 400."""

    model: type[models.Model]

    def _hidden(self) -> frozenset[str]:
        return frozenset(free_text_fields(self.model))

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if reaches_free_text(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]

    def get_search_fields(self, request: HttpRequest) -> Sequence[str]:
        fields = super().get_search_fields(request)  # type: ignore[misc]
        return [f for f in fields if not reaches_free_text(self.model, f.lstrip("^=@"))]

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        return _without(super().get_list_display(request), self._hidden())  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        def field_of(entry: Any) -> str | None:
            if isinstance(entry, (list, tuple)):
                entry = entry[0]
            return entry if isinstance(entry, str) else None

        filters = super().get_list_filter(request)  # type: ignore[misc]
        return [
            entry
            for entry in filters
            if (name := field_of(entry)) is None or not reaches_free_text(self.model, name)
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        return _without(super().get_fields(request, obj), self._hidden())  # type: ignore[misc]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        hidden = self._hidden()
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if not hidden:
            return fieldsets
        return [
            (name, {**options, "fields": _without(options.get("fields", ()), hidden)})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        fields = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        return _without(fields, self._hidden())

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Sequence[str] | None:
        exclude = super().get_exclude(request, obj)  # type: ignore[misc]
        hidden = self._hidden()
        if not hidden:
            return exclude
        return [*(exclude or ()), *sorted(hidden)]

    def get_ordering(self, request: HttpRequest) -> Sequence[str]:
        ordering = super().get_ordering(request)  # type: ignore[misc]
        return [o for o in ordering if not reaches_free_text(self.model, o.lstrip("-"))]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        instances = super().get_inline_instances(request, obj)  # type: ignore[misc]
        for inline in instances:
            inline.__class__ = guarded(type(inline))
        return instances


_GUARDED: dict[type, type] = {}


def guarded(admin_class: type) -> type:
    """The admin (or inline) class with NotesNeverLookedUp in front of everything the class
    defines itself (so an overridden get_fieldsets is filtered too), made once per class."""
    if admin_class in _GUARDED.values():
        return admin_class
    if issubclass(admin_class, NotesNeverLookedUp):
        # In front is the only place it holds; behind the class's own methods it would not.
        raise TypeError(
            f"{admin_class.__name__}: the admin site puts NotesNeverLookedUp in front of every "
            "admin; leave it out of the class's bases."
        )
    if admin_class not in _GUARDED:
        _GUARDED[admin_class] = type(
            admin_class.__name__,
            (NotesNeverLookedUp, admin_class),
            {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
        )
    return _GUARDED[admin_class]
