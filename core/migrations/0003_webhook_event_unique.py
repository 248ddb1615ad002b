from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0002_webhook_health')]

    initial = False

    operations = [
        ops.AddConstraint(
            model_name='WebhookDelivery',
            constraint=UniqueConstraint(fields=('event_id', 'endpoint'), name=None),
        ),
    ]
