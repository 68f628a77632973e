"""Leaf indexes for appends: the dedupe key led by the record serves record lookups too (one wide index
instead of two), and the project code gets a plain index (no pattern-ops twin). The new key is in place
before the old one goes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0004_witness_url'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='leaf',
            constraint=models.UniqueConstraint(fields=('log', 'record_model', 'record_id', 'kind', 'digest'), name='ledger_leaf_dedupe_by_record'),
        ),
        migrations.RemoveConstraint(
            model_name='leaf',
            name='ledger_leaf_dedupe',
        ),
        migrations.RemoveIndex(
            model_name='leaf',
            name='ledger_leaf_record_idx',
        ),
        migrations.AlterField(
            model_name='leaf',
            name='project_code',
            field=models.CharField(max_length=24, verbose_name='项目代码'),
        ),
        migrations.AddIndex(
            model_name='leaf',
            index=models.Index(fields=['project_code'], name='ledger_leaf_project'),
        ),
    ]
