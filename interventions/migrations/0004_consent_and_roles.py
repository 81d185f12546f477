"""Consent and emergency overrides; the four roles as permission groups, each with the least
Django model permissions it needs. Managers and outreach workers reach case data through their
organisation memberships, not through model permissions, so their groups hold none; the analyst
holds one custom permission (aggregate figures) and none on case models; the city admin holds
the permissions the Django admin needs."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

OUTREACH_WORKER, MANAGER, CITY_ADMIN, ANALYST = (
    "Outreach worker",
    "Manager",
    "City admin",
    "Analyst",
)

# (app label, model, actions) for the city admin: what the admin offers them, and no more.
# Case records are never deleted from the admin (history is kept), only reference data.
ALL = ("view", "add", "change", "delete")
KEEP = ("view", "add", "change")
CITY_ADMIN_MODEL_PERMISSIONS = [
    ("interventions", "area", ALL),
    ("interventions", "partnerorganization", KEEP),
    ("interventions", "membership", ALL),
    ("interventions", "program", KEEP),
    ("interventions", "participant", KEEP),
    ("interventions", "enrollment", KEEP),
    ("interventions", "enrollmentstatuschange", ("view",)),
    ("interventions", "session", KEEP),
    ("interventions", "referral", KEEP),
    ("interventions", "consent", KEEP),
    ("interventions", "consentoverride", ("view",)),
    ("interventions", "streetgroup", KEEP),
    ("interventions", "grouptie", KEEP),
    ("interventions", "groupconflict", KEEP),
    ("interventions", "incident", KEEP),
    ("interventions", "responsetask", ("view", "change")),
    ("interventions", "callin", KEEP),
    ("interventions", "customnotification", KEEP),
    ("interventions", "shootingreview", KEEP),
    ("metrics", "areapopulation", ALL),
    ("metrics", "crimeoutcome", ALL),
    ("metrics", "activityrollup", ("view",)),
    ("metrics", "rollupfillstate", ("view",)),
    ("audit", "auditevent", ("view",)),
    ("auth", "user", ("view", "add", "change")),
    ("auth", "group", ("view",)),
    # Unlocking a locked-out account is deleting its failed attempts.
    ("axes", "accessattempt", ("view", "delete")),
    ("axes", "accessfailurelog", ("view",)),
    ("axes", "accesslog", ("view",)),
]
CITY_ADMIN_CUSTOM_PERMISSIONS = [
    ("interventions", "view_street_intelligence"),
    ("interventions", "view_aggregate_metrics"),
]
ANALYST_PERMISSIONS = [("interventions", "view_aggregate_metrics")]


def create_role_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after every migration has run; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permission(app_label, codename):
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    city_admin_permissions = [
        permission(app_label, f"{action}_{model}")
        for app_label, model, actions in CITY_ADMIN_MODEL_PERMISSIONS
        for action in actions
    ] + [permission(app_label, codename) for app_label, codename in CITY_ADMIN_CUSTOM_PERMISSIONS]
    wanted = {
        OUTREACH_WORKER: [],
        MANAGER: [],
        CITY_ADMIN: city_admin_permissions,
        ANALYST: [permission(app_label, codename) for app_label, codename in ANALYST_PERMISSIONS],
    }
    for name, permissions in wanted.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[OUTREACH_WORKER, MANAGER, CITY_ADMIN, ANALYST]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("interventions", "0003_stricter_dates_and_session_time_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audit", "0001_initial"),
        ("metrics", "0001_outcomes_and_rollups"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="partnerorganization",
            options={
                "ordering": ["name"],
                "permissions": [
                    (
                        "view_aggregate_metrics",
                        "Can view aggregate metrics across partner organisations (no records, no notes)",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Consent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "scope",
                    models.CharField(
                        choices=[("organization", "A partner organisation"), ("city", "The city")],
                        default="organization",
                        max_length=20,
                    ),
                ),
                ("granted_on", models.DateField()),
                ("expires_on", models.DateField(blank=True, null=True)),
                ("revoked_on", models.DateField(blank=True, null=True)),
                ("note", models.CharField(blank=True, max_length=500)),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        help_text="The partner organisation the record is shared with (empty for the city).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consents_received",
                        to="interventions.partnerorganization",
                    ),
                ),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consents",
                        to="interventions.participant",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consents_recorded",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consents_revoked",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-granted_on", "-id"],
                "permissions": [
                    (
                        "override_consent",
                        "Can open one participant's record without consent in an emergency",
                    )
                ],
                "indexes": [
                    models.Index(
                        fields=["participant", "organization"], name="consent_participant_idx"
                    ),
                    models.Index(
                        fields=["organization", "participant"], name="consent_organization_idx"
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("scope", "organization"), ("organization__isnull", False)),
                            models.Q(("scope", "city"), ("organization__isnull", True)),
                            _connector="OR",
                        ),
                        name="consent_scope_is_organization_or_city",
                        violation_error_message="A consent shares with one partner organisation or with the city, not both.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("expires_on__isnull", True),
                            ("expires_on__gt", models.F("granted_on")),
                            _connector="OR",
                        ),
                        name="consent_expires_after_granted",
                        violation_error_message="A consent must expire after the day it was granted.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("revoked_on__isnull", True),
                            ("revoked_on__gte", models.F("granted_on")),
                            _connector="OR",
                        ),
                        name="consent_revoked_not_before_granted",
                        violation_error_message="A consent cannot be revoked before it was granted.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("revoked_on__isnull", True),
                            ("revoked_by__isnull", False),
                            _connector="OR",
                        ),
                        name="consent_revocation_has_its_author",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ConsentOverride",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(max_length=1000)),
                (
                    "granted_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("expires_at", models.DateTimeField()),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_overrides",
                        to="interventions.participant",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_overrides",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-granted_at", "-id"],
                "indexes": [
                    models.Index(fields=["user", "expires_at"], name="consentoverride_user_idx")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("granted_at"))),
                        name="consentoverride_expires_after_granted",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("reason", ""), _negated=True),
                        name="consentoverride_has_a_reason",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_role_groups, remove_role_groups),
    ]
