"""Background work of insight: the nightly full recompute of red flags."""

from __future__ import annotations

from django_tasks import task

from minsheng.insight import services


@task()
def recompute_red_flags() -> dict[str, int]:
    return services.recompute_all()
