import django.db.models.deletion
from django.db import migrations, models

import tbproject.clock


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0009_event_hub_checkpoints'),
    ]

    operations = [
        migrations.CreateModel(
            name='StreamCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stream', models.CharField(max_length=255)),
                ('shard', models.CharField(max_length=255)),
                ('position', models.CharField(help_text='sequence number of the last queued record', max_length=255)),
                ('updated_ts', models.BigIntegerField(default=tbproject.clock.now_ms)),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='integrations.integration')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('integration', 'stream', 'shard'), name='stream_checkpoint_per_shard')],
            },
        ),
    ]
