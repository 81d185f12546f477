"""The manager's filter forms as drawn: long selects written in Python give the same choices,
selection and escaping as Django's own select, and each field shows its label and errors."""

from __future__ import annotations

import re
from html import unescape

from django import forms
from django.test import Client
from django.urls import reverse

from interventions.forms.widgets import ListSelect
from tests.conftest import OrgSetup
from tests.factories import EnrollmentFactory, MembershipFactory, UserFactory

CHOICES = [
    ("", "Any worker"),
    ("none", "Unassigned"),
    ("7", 'Ana "Lucky" <b>Ruiz</b> & co'),
    ("12", "Ben Ortiz"),
]


def options(html: str) -> list[tuple[str, str, bool]]:
    return [
        (unescape(value), unescape(label), bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html
        )
    ]


def test_a_list_select_draws_what_djangos_select_draws() -> None:
    attrs = {"id": "id_worker", "class": "form-select"}
    for value in ("", "none", "12", None, "missing"):
        ours = ListSelect(choices=CHOICES).render("worker", value, attrs)
        django = forms.Select(choices=CHOICES).render("worker", value, attrs)
        assert options(ours) == options(django), value
        assert len(options(ours)) == len(CHOICES)
        assert ours.split(">")[0] == django.split(">")[0]
    drawn = ListSelect(choices=CHOICES).render("worker", "7", {})
    assert "<b>" not in drawn
    assert "&lt;b&gt;Ruiz&lt;/b&gt; &amp; co" in drawn
    assert ("7", 'Ana "Lucky" <b>Ruiz</b> & co', True) in options(drawn)


def test_a_list_select_keeps_the_required_and_id_of_the_assignment_form(
    org_a: OrgSetup, manager_client: Client
) -> None:
    extra = UserFactory(username="assignable", first_name="Zed", last_name="<Zorro>")
    MembershipFactory(user=extra, organization=org_a.organization)
    EnrollmentFactory(participant__organization=org_a.organization, program=org_a.program)
    page = manager_client.get(reverse("org_participants")).content.decode()
    select = re.search(
        r'<select name="worker"[^>]*id="id_worker_assign"[^>]*>.*?</select>', page, re.S
    )
    assert select is not None
    assert " required" in select.group(0)
    drawn = options(select.group(0))
    assert drawn[0] == ("", "Choose a worker", True)
    assert (str(extra.pk), "Zed <Zorro>", False) in drawn
    assert "<Zorro>" not in select.group(0)


def test_filter_fields_show_labels_chosen_values_and_errors(
    org_a: OrgSetup, manager_client: Client
) -> None:
    page = manager_client.get(
        reverse("org_participants"),
        {"status": "bogus", "worker": str(org_a.worker.pk), "identified_from": "2020-13-01"},
    ).content.decode()
    status = re.search(r'<select name="status"[^>]*>', page).group(0)
    assert 'class="form-select is-invalid"' in status
    assert 'aria-describedby="id_status_error"' in status
    assert re.search(r'<div id="id_status_error" class="invalid-feedback">.*bogus', page, re.S)
    date = re.search(r'<input type="date" name="identified_from"[^>]*>', page).group(0)
    assert 'value="2020-13-01"' in date and "is-invalid" in date
    assert '<label for="id_q" class="form-label">Name, alias or code</label>' in page
    worker = re.search(r'<select name="worker"[^>]*id="id_worker"[^>]*>.*?</select>', page, re.S)
    chosen = [value for value, _label, selected in options(worker.group(0)) if selected]
    assert chosen == [str(org_a.worker.pk)]
