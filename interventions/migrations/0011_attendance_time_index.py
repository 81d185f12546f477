from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out writes: the attendance table holds millions of rows.
    atomic = False

    dependencies = [
        ("interventions", "0010_session_day_counts"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="sessionparticipant",
            index=models.Index(fields=["occurred_at"], name="attendance_occurred_at_idx"),
        ),
    ]
