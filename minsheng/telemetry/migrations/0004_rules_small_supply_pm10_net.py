"""More rules as data: the small-supply turbidity limit of GB 5749-2022 (the 1 NTU rule no longer
applies to small supplies) and PM10 net of the district background station, hourly, with a daily
allowance of exceedances (DOMAIN.md "Sites and sensors")."""

import datetime as dt

from django.db import migrations

RULES = [
    # code, name, kind, metric, comparator, limit, severity, standard, clause, valid_from, verify, extra
    ("turbidity_small", "小型供水浑浊度超标", "water_quality", "turbidity", ">", 3, "major", "GB 5749-2022",
     "表1 注：小型集中式供水和分散式供水 ≤ 3 NTU", dt.date(2023, 4, 1), False, {"small_supply": True}),
    ("pm10_net", "施工扬尘 PM10 扣除背景后超标", "dust", "pm10", ">", 80, "minor", "地方标准（示例）",
     "场地小时均值减区县背景站同时段均值 ≤ 80 µg/m³，每日超标不超过 2 次（示例，按本地标准配置）",
     dt.date(2019, 5, 1), True, {"window_minutes": 60, "net_of_background": True, "daily_allowance": 2}),
]


def seed(apps, schema_editor):
    AlarmRule = apps.get_model("telemetry", "AlarmRule")
    AlarmRule.objects.filter(code="turbidity", division=None).update(small_supply=False)
    for code, name, kind, metric, cmp, limit, severity, standard, clause, valid_from, verify, extra in RULES:
        AlarmRule.objects.get_or_create(
            code=code, division=None, valid_from=valid_from,
            defaults={"name": name, "device_kind": kind, "metric": metric, "comparator": cmp, "limit": limit,
                      "severity": severity, "standard": standard, "clause": clause, "needs_verification": verify,
                      **extra},
        )


def unseed(apps, schema_editor):
    AlarmRule = apps.get_model("telemetry", "AlarmRule")
    AlarmRule.objects.filter(division=None, code__in=[r[0] for r in RULES]).delete()
    AlarmRule.objects.filter(code="turbidity", division=None).update(small_supply=None)


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0003_storage_rollups_rules")]
    operations = [migrations.RunPython(seed, unseed)]
