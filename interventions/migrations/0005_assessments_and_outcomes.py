"""Demographics, outcome events and the assessment engine (issue 11, parts 3 and 4), with the
audit triggers of 0001 on every table that holds a person's data."""

import django.contrib.postgres.fields
import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

# table, object type, participant expression (as in the audit app's 0001_initial.CASE_TABLES)
AUDITED_TABLES = [
    ("interventions_demographics", "demographics", "r.participant_id"),
    ("interventions_outcomeevent", "outcomeevent", "r.participant_id"),
    ("interventions_assessment", "assessment", "r.participant_id"),
    (
        "interventions_answer",
        "answer",
        "(SELECT a.participant_id FROM interventions_assessment a WHERE a.id = r.assessment_id)",
    ),
    (
        "interventions_scalescore",
        "scalescore",
        "(SELECT a.participant_id FROM interventions_assessment a WHERE a.id = r.assessment_id)",
    ),
    ("interventions_risktierchange", "risktierchange", "r.participant_id"),
    # The instruments are reference data, but a change to one changes what an answer means.
    ("interventions_instrument", "instrument", "NULL::bigint"),
    ("interventions_instrumentversion", "instrumentversion", "NULL::bigint"),
    ("interventions_scale", "scale", "NULL::bigint"),
    ("interventions_item", "item", "NULL::bigint"),
    ("interventions_itemchoice", "itemchoice", "NULL::bigint"),
]


# An answered version keeps its questions: its items, scales and choices cannot change or go,
# and of the version itself only whether it is offered (is_published) may change.
FREEZE_FUNCTION = """
CREATE FUNCTION interventions_refuse_change_to_answered_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    version bigint;
BEGIN
    IF TG_TABLE_NAME = 'interventions_instrumentversion' THEN
        version := OLD.id;
        IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'is_published') = (to_jsonb(OLD) - 'is_published')
        THEN
            RETURN NEW;
        END IF;
    ELSIF TG_TABLE_NAME = 'interventions_itemchoice' THEN
        SELECT i.version_id INTO version FROM interventions_item i WHERE i.id = OLD.item_id;
    ELSE
        version := OLD.version_id;
    END IF;
    IF EXISTS (SELECT 1 FROM interventions_assessment a WHERE a.version_id = version) THEN
        RAISE EXCEPTION 'This version of the instrument has been answered and cannot change.'
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Make a new version from it.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
"""
FREEZE_TRIGGERS = [
    f"CREATE TRIGGER freeze_answered_version BEFORE UPDATE OR DELETE ON {table}"  # nosec B608
    " FOR EACH ROW EXECUTE FUNCTION interventions_refuse_change_to_answered_version();"
    for table in (
        "interventions_instrumentversion",
        "interventions_scale",
        "interventions_item",
        "interventions_itemchoice",
    )
]
UNFREEZE = "DROP FUNCTION IF EXISTS interventions_refuse_change_to_answered_version() CASCADE;"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _triggers() -> str:
    statements = []
    for table, object_type, participant_sql in AUDITED_TABLES:
        args = f"{_quote(object_type)}, {_quote(participant_sql)}"
        statements += [
            f"CREATE TRIGGER audit_insert AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS audit_new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});",
            f"CREATE TRIGGER audit_update AFTER UPDATE ON {table}"
            " REFERENCING OLD TABLE AS audit_old_rows NEW TABLE AS audit_new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});",
            f"CREATE TRIGGER audit_delete AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS audit_old_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});",
        ]
    return "\n".join(statements)


DROP_TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS audit_{op} ON {table};"
    for table, _, _ in AUDITED_TABLES
    for op in ("insert", "update", "delete")
)


class Migration(migrations.Migration):
    dependencies = [
        ("interventions", "0004_consent_and_roles"),
        ("audit", "0003_response_tables"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Instrument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("slug", models.SlugField(max_length=120, unique=True)),
                ("description", models.TextField(blank=True)),
                (
                    "is_example",
                    models.BooleanField(
                        default=False,
                        help_text="An example to show how the engine works, not a validated tool. Pages say so.",
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="consent",
            name="shares_demographics",
            field=models.BooleanField(
                default=False, help_text="The person agreed to share their demographics too."
            ),
        ),
        migrations.CreateModel(
            name="InstrumentVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField()),
                (
                    "is_published",
                    models.BooleanField(
                        default=False, help_text="Workers answer the newest published version."
                    ),
                ),
                (
                    "eligible_min_scales",
                    models.PositiveSmallIntegerField(
                        help_text="Eligible when at least this many scales are at or above their cut-off."
                    ),
                ),
                ("tier_1_min_scales", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("tier_2_min_scales", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "instrument",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="interventions.instrument",
                    ),
                ),
            ],
            options={
                "ordering": ["instrument__name", "-number"],
            },
        ),
        migrations.CreateModel(
            name="Assessment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("intake", "Intake"), ("reassessment", "Reassessment")],
                        max_length=20,
                    ),
                ),
                ("assessed_on", models.DateField()),
                ("scales_at_cutoff", models.PositiveSmallIntegerField()),
                ("eligible", models.BooleanField()),
                (
                    "suggested_tier",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        choices=[
                            (1, "Tier 1: highest risk"),
                            (2, "Tier 2: high risk"),
                            (3, "Tier 3: elevated risk"),
                        ],
                        null=True,
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "assessed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assessments_made",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assessments",
                        to="interventions.partnerorganization",
                    ),
                ),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assessments",
                        to="interventions.participant",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assessments",
                        to="interventions.instrumentversion",
                    ),
                ),
            ],
            options={
                "ordering": ["-assessed_on", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.CharField(max_length=500)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("yes_no", "Yes / no (1 / 0)"),
                            ("scale", "Scale from 0 to its maximum"),
                            ("choice", "One of its choices (each worth its points)"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "max_value",
                    models.PositiveSmallIntegerField(
                        blank=True, help_text="For a 0-n scale item: n.", null=True
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="interventions.instrumentversion",
                    ),
                ),
            ],
            options={
                "ordering": ["version", "position", "id"],
            },
        ),
        migrations.CreateModel(
            name="Answer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("points", models.PositiveSmallIntegerField()),
                (
                    "assessment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="interventions.assessment",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="interventions.item",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ItemChoice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=200)),
                ("points", models.PositiveSmallIntegerField()),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="choices",
                        to="interventions.item",
                    ),
                ),
            ],
            options={
                "ordering": ["item", "position", "id"],
            },
        ),
        migrations.CreateModel(
            name="OutcomeEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("arrest", "Arrest"),
                            ("charge", "Charge"),
                            ("conviction", "Conviction"),
                            ("incarceration", "Incarceration"),
                            ("release", "Release"),
                            ("violent_victimization", "Violent victimisation"),
                            ("reinjury", "Re-injury"),
                            ("employment_started", "Employment started"),
                            ("employment_ended", "Employment ended"),
                            ("school_enrolled", "School enrolled"),
                            ("credential_earned", "Credential earned"),
                            ("housing_secured", "Housing secured"),
                            ("probation_completed", "Probation completed"),
                        ],
                        max_length=30,
                    ),
                ),
                (
                    "detail",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("shot", "Shot"),
                            ("stabbed", "Stabbed"),
                            ("assaulted", "Assaulted"),
                            ("ged", "GED / high-school equivalency"),
                            ("diploma", "High-school diploma"),
                            ("certificate", "Certificate"),
                            ("licence", "Licence"),
                        ],
                        max_length=20,
                    ),
                ),
                ("occurred_on", models.DateField()),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("self_report", "Self-report"),
                            ("probation", "Probation"),
                            ("court_record", "Court record"),
                            ("hospital", "Hospital"),
                            ("school", "School"),
                            ("employer", "Employer"),
                            ("worker_observed", "Worker observed"),
                        ],
                        max_length=20,
                    ),
                ),
                ("notes", models.TextField(blank=True)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "incident",
                    models.ForeignKey(
                        blank=True,
                        help_text="The recorded incident this victimisation comes from.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_events",
                        to="interventions.incident",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_events",
                        to="interventions.partnerorganization",
                    ),
                ),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_events",
                        to="interventions.participant",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_events_recorded",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_on", "-id"],
            },
        ),
        migrations.CreateModel(
            name="RiskTierChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "from_tier",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (1, "Tier 1: highest risk"),
                            (2, "Tier 2: high risk"),
                            (3, "Tier 3: elevated risk"),
                        ]
                    ),
                ),
                (
                    "to_tier",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (1, "Tier 1: highest risk"),
                            (2, "Tier 2: high risk"),
                            (3, "Tier 3: elevated risk"),
                        ]
                    ),
                ),
                (
                    "basis",
                    models.CharField(
                        choices=[("assessment", "From an assessment"), ("by_hand", "Set by hand")],
                        max_length=20,
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("changed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "assessment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tier_changes",
                        to="interventions.assessment",
                    ),
                ),
                (
                    "changed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="risk_tier_changes",
                        to="interventions.partnerorganization",
                    ),
                ),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="risk_tier_changes",
                        to="interventions.participant",
                    ),
                ),
            ],
            options={
                "ordering": ["-changed_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Scale",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=40)),
                ("name", models.CharField(max_length=200)),
                (
                    "cutoff",
                    models.PositiveSmallIntegerField(
                        help_text="At cut-off when the sum of the scale's items is at or above this."
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="scales",
                        to="interventions.instrumentversion",
                    ),
                ),
            ],
            options={
                "ordering": ["version", "position", "id"],
            },
        ),
        migrations.AddField(
            model_name="item",
            name="scale",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="items",
                to="interventions.scale",
            ),
        ),
        migrations.CreateModel(
            name="ScaleScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("score", models.PositiveSmallIntegerField()),
                ("at_cutoff", models.BooleanField()),
                (
                    "assessment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="scale_scores",
                        to="interventions.assessment",
                    ),
                ),
                (
                    "scale",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="scores",
                        to="interventions.scale",
                    ),
                ),
            ],
            options={
                "ordering": ["scale__position", "scale_id"],
            },
        ),
        migrations.CreateModel(
            name="Demographics",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "gender",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("man", "Man / boy"),
                            ("woman", "Woman / girl"),
                            ("transgender_man", "Transgender man / boy"),
                            ("transgender_woman", "Transgender woman / girl"),
                            ("nonbinary", "Nonbinary"),
                            ("another", "Another gender"),
                            ("declined", "Declined to answer"),
                            ("unknown", "Unknown"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "race_ethnicity",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(
                            choices=[
                                ("american_indian", "American Indian or Alaska Native"),
                                ("asian", "Asian"),
                                ("black", "Black or African American"),
                                ("hispanic", "Hispanic or Latino"),
                                ("middle_eastern", "Middle Eastern or North African"),
                                ("pacific_islander", "Native Hawaiian or Pacific Islander"),
                                ("white", "White"),
                                ("declined", "Declined to answer"),
                                ("unknown", "Unknown"),
                            ],
                            max_length=20,
                        ),
                        blank=True,
                        default=list,
                        help_text="Several may be chosen.",
                        size=None,
                    ),
                ),
                (
                    "preferred_language",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("english", "English"),
                            ("spanish", "Spanish"),
                            ("punjabi", "Punjabi"),
                            ("tagalog", "Tagalog"),
                            ("vietnamese", "Vietnamese"),
                            ("hmong", "Hmong"),
                            ("arabic", "Arabic"),
                            ("other", "Another language"),
                            ("declined", "Declined to answer"),
                            ("unknown", "Unknown"),
                        ],
                        max_length=20,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "participant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="demographics",
                        to="interventions.participant",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "demographics",
                "indexes": [models.Index(fields=["gender"], name="demographics_gender_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "race_ethnicity__contained_by",
                                [
                                    "american_indian",
                                    "asian",
                                    "black",
                                    "hispanic",
                                    "middle_eastern",
                                    "pacific_islander",
                                    "white",
                                    "declined",
                                    "unknown",
                                ],
                            )
                        ),
                        name="demographics_race_ethnicity_known_values",
                        violation_error_message="Choose race and ethnicity from the list.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("race_ethnicity__overlap", ["declined", "unknown"]),
                            ("race_ethnicity__len__gt", 1),
                            _negated=True,
                        ),
                        name="demographics_declined_or_unknown_alone",
                        violation_error_message="“Declined to answer” and “Unknown” cannot be chosen with another answer.",
                    ),
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="instrumentversion",
            constraint=models.UniqueConstraint(
                fields=("instrument", "number"),
                name="instrumentversion_number_once",
                violation_error_message="This instrument already has a version with that number.",
            ),
        ),
        migrations.AddConstraint(
            model_name="instrumentversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("number__gte", 1)), name="instrumentversion_number_from_1"
            ),
        ),
        migrations.AddConstraint(
            model_name="instrumentversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("tier_1_min_scales__isnull", True),
                    ("tier_2_min_scales__isnull", True),
                    ("tier_1_min_scales__gt", models.F("tier_2_min_scales")),
                    _connector="OR",
                ),
                name="instrumentversion_tier_1_needs_more_scales",
                violation_error_message="Tier 1 must need more scales at cut-off than tier 2.",
            ),
        ),
        migrations.AddIndex(
            model_name="assessment",
            index=models.Index(
                fields=["participant", "-assessed_on"], name="assessment_person_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="assessment",
            constraint=models.CheckConstraint(
                condition=models.Q(("assessed_on__lte", django.db.models.functions.datetime.Now())),
                name="assessment_not_in_future",
                violation_error_message="An assessment cannot be dated in the future.",
            ),
        ),
        migrations.AddConstraint(
            model_name="answer",
            constraint=models.UniqueConstraint(
                fields=("assessment", "item"),
                name="answer_once_per_item",
                violation_error_message="An item is answered once per assessment.",
            ),
        ),
        migrations.AddIndex(
            model_name="outcomeevent",
            index=models.Index(
                fields=["participant", "kind", "occurred_on"], name="outcome_person_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="outcomeevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("occurred_on__lte", django.db.models.functions.datetime.Now())),
                name="outcome_event_not_in_future",
                violation_error_message="An outcome cannot be dated in the future.",
            ),
        ),
        migrations.AddConstraint(
            model_name="outcomeevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind__in", ["violent_victimization", "reinjury"]),
                        ("detail__in", ["", "shot", "stabbed", "assaulted"]),
                    ),
                    models.Q(
                        ("kind", "credential_earned"),
                        ("detail__in", ["", "ged", "diploma", "certificate", "licence"]),
                    ),
                    models.Q(
                        models.Q(
                            (
                                "kind__in",
                                ["violent_victimization", "reinjury", "credential_earned"],
                            ),
                            _negated=True,
                        ),
                        ("detail", ""),
                    ),
                    _connector="OR",
                ),
                name="outcome_event_detail_fits_kind",
                violation_error_message="That detail does not fit this kind of outcome.",
            ),
        ),
        migrations.AddConstraint(
            model_name="outcomeevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("incident__isnull", True),
                    ("kind__in", ["violent_victimization", "reinjury"]),
                    _connector="OR",
                ),
                name="outcome_event_incident_only_for_injuries",
                violation_error_message="Only a violent injury can come from a recorded incident.",
            ),
        ),
        migrations.AddConstraint(
            model_name="outcomeevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("incident__isnull", False)),
                fields=("incident", "participant"),
                name="outcome_event_once_per_incident",
                violation_error_message="This incident is already recorded as an outcome.",
            ),
        ),
        migrations.AddConstraint(
            model_name="risktierchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("basis", "assessment"), ("assessment__isnull", False)),
                    models.Q(
                        ("basis", "by_hand"),
                        ("assessment__isnull", True),
                        models.Q(("reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="risktierchange_assessment_or_reason",
                violation_error_message="A tier comes from an assessment, or is set by hand with a reason.",
            ),
        ),
        migrations.AddConstraint(
            model_name="scale",
            constraint=models.UniqueConstraint(
                fields=("version", "code"),
                name="scale_code_once_per_version",
                violation_error_message="This version already has a scale with that code.",
            ),
        ),
        migrations.AddConstraint(
            model_name="item",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "scale"), ("max_value__gte", 1)),
                    models.Q(
                        models.Q(("kind", "scale"), _negated=True), ("max_value__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="item_scale_has_a_maximum",
                violation_error_message="A 0-n scale item needs its n (1 or more); others none.",
            ),
        ),
        migrations.AddConstraint(
            model_name="scalescore",
            constraint=models.UniqueConstraint(
                fields=("assessment", "scale"), name="scalescore_once_per_scale"
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                fields=["occurred_at"],
                include=("kind", "duration_minutes", "organization"),
                name="session_time_kind_idx",
            ),
        ),
        migrations.RunSQL(_triggers(), DROP_TRIGGERS),
        migrations.RunSQL([FREEZE_FUNCTION, *FREEZE_TRIGGERS], UNFREEZE),
    ]
