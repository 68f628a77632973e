"""The alarm rules from the standards named in DOMAIN.md ("Sites and sensors"), as data. A
jurisdiction adds its own versions (a region, a validity) beside these; the nearest region wins."""

import datetime as dt

from django.db import migrations

# code, name, device kind, metric, comparator, limit, hour_from, hour_to, severity, standard, clause,
# valid_from, needs_verification
RULES = [
    ("noise_day", "施工场界昼间噪声超标", "noise", "laeq", ">", 70, 6, 22, "major",
     "GB 12523-2011", "4.1 表1 昼间 70 dB(A)", dt.date(2012, 7, 1), False),
    ("noise_night", "施工场界夜间噪声超标", "noise", "laeq", ">", 55, 22, 6, "major",
     "GB 12523-2011", "4.1 表1 夜间 55 dB(A)", dt.date(2012, 7, 1), False),
    ("noise_night_lmax", "夜间最大声级超标", "noise", "lmax", ">", 70, 22, 6, "major",
     "GB 12523-2011", "4.2 夜间最大声级不超过限值 15 dB(A)", dt.date(2012, 7, 1), False),
    ("pm10_site", "施工扬尘 PM10 超标", "dust", "pm10", ">", 80, None, None, "minor",
     "DB13/2934-2019", "河北省施工场地扬尘排放标准 PM10 80 µg/m³（示例，按本地标准配置）", dt.date(2019, 5, 1), True),
    ("crane_prewarning", "塔吊力矩预警（90%）", "crane", "load_moment_pct", ">", 90, None, None, "warning",
     "GB/T 28264-2017", "起重机械安全监控系统：额定起重力矩 90% 预警（待核实）", dt.date(2017, 2, 1), True),
    ("crane_cutoff", "塔吊力矩超限（100%）", "crane", "load_moment_pct", ">", 100, None, None, "critical",
     "GB/T 28264-2017", "额定起重力矩 100%～110% 之间切断（待核实）", dt.date(2017, 2, 1), True),
    ("turbidity", "出厂水浑浊度超标", "water_quality", "turbidity", ">", 1, None, None, "major",
     "GB 5749-2022", "表1 浑浊度 ≤ 1 NTU（小型集中式供水和分散式供水 ≤ 3 NTU）", dt.date(2023, 4, 1), False),
    ("chlorine_high", "游离氯过高", "water_quality", "chlorine", ">", 2, None, None, "minor",
     "GB 5749-2022", "表2 游离氯 ≤ 2 mg/L", dt.date(2023, 4, 1), False),
    ("chlorine_low", "末梢水游离氯不足", "water_quality", "chlorine", "<", 0.05, None, None, "major",
     "GB 5749-2022", "表2 末梢水游离氯 ≥ 0.05 mg/L", dt.date(2023, 4, 1), False),
]


def seed(apps, schema_editor):
    AlarmRule = apps.get_model("telemetry", "AlarmRule")
    for (code, name, kind, metric, cmp, limit, h_from, h_to, severity, standard, clause, valid_from,
         verify) in RULES:
        AlarmRule.objects.get_or_create(
            code=code, division=None, valid_from=valid_from,
            defaults={"name": name, "device_kind": kind, "metric": metric, "comparator": cmp, "limit": limit,
                      "hour_from": h_from, "hour_to": h_to, "severity": severity, "standard": standard,
                      "clause": clause, "needs_verification": verify},
        )


def unseed(apps, schema_editor):
    apps.get_model("telemetry", "AlarmRule").objects.filter(division=None, code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
