from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0003_webhook_event_unique')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Domain',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='domains', on_delete=OnDelete.CASCADE)),
                ('slot', fields.SmallIntField()),
                ('hostname', fields.CharField(max_length=253)),
                ('verified_hostname', fields.CharField(null=True, unique=True, max_length=253)),
                ('token', fields.CharField(max_length=64)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'domains', 'app': 'models', 'unique_together': (('account', 'slot'), ('account', 'hostname')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScanCounter',
            fields=[
                ('qr_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('taken', fields.IntField(default=0)),
            ],
            options={'table': 'scan_counters', 'app': 'models', 'pk_attr': 'qr_id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='QrCode',
            name='short_code',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='QrCode',
            name='deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='QrCode',
            name='domain',
            field=fields.CharField(default='', db_default='', max_length=253),
        ),
        ops.AddField(
            model_name='QrCode',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='QrCode',
            name='forward_query',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='QrCode',
            name='max_scans',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='QrCode',
            name='password_hash',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='QrCode',
            name='paused',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='QrCode',
            name='rules',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='QrCode',
            name='split',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='QrCode',
            name='utm',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddConstraint(
            model_name='QrCode',
            constraint=UniqueConstraint(fields=('domain', 'short_code'), name=None),
        ),
    ]
