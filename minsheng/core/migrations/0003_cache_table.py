"""The shared cache's table, when the cache is the database (no Redis: settings.CACHES).

Rate limits, the captcha counters and the jurisdiction rules' version token live in the shared cache, so
`migrate` alone must leave a working installation; with Redis configured this creates nothing."""

from django.core.management import call_command
from django.db import migrations


def create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
