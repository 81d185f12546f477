from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out writes on tables of millions of rows; the covering index is
    # in place before the one it replaces goes.
    atomic = False

    dependencies = [
        ("interventions", "0011_attendance_time_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(
                condition=models.Q(follow_up_on__isnull=False),
                fields=["id"],
                include=["follow_up_on"],
                name="session_follow_up_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="sessionparticipant",
            index=models.Index(
                fields=["participant", "-occurred_at"],
                include=["session"],
                name="last_session_covering_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="sessionparticipant", name="last_session_idx"),
    ]
