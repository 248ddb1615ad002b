from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # Endpoint health by time, not by count: disabled only after failing continuously
    # for 24 hours (failing_since), and why it is disabled (failing | manual).
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.AddField(
            model_name="ScanEndpoint",
            name="failing_since",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="ScanEndpoint",
            name="disabled_reason",
            field=fields.CharField(null=True, max_length=16),
        ),
    ]
