from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("finance", "0002_payments"),
    ]

    operations = [
        migrations.AddField(
            model_name="budgetversion",
            name="currency",
            field=models.CharField(default="CNY", max_length=3, verbose_name="币种"),
        ),
        migrations.AddField(
            model_name="evmsnapshot",
            name="spi_t",
            field=models.DecimalField(decimal_places=4, max_digits=8, null=True),
        ),
    ]
