"""A generated procurement world for the OCDS and red-flag benchmarks: projects with a tender each (three bids, an
award, a contract with milestones, change orders on some), direct purchases, and payments loaded with COPY on
PostgreSQL. Call `setup_db` before Django is set up, then `generate` after `migrate`."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import tempfile
from decimal import Decimal
from typing import Any

CHUNK = 20_000


def setup_db(url: str | None, default_name: str) -> str:
    """Drop and create the bench database (PostgreSQL), or point at a fresh SQLite file; returns its URL."""
    if url is None or url.startswith("postgres"):
        import psycopg

        url = url or f"postgres://postgres@127.0.0.1:5432/{default_name}"
        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = url
        return url
    tmp = tempfile.mkdtemp(prefix="procbench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
    os.environ.setdefault("MINSHENG_DATA_DIR", tmp)
    return "sqlite"


def _amount(rng: random.Random, skew: bool) -> Decimal:
    if skew:  # a department whose amounts start with 4 or 5 far too often
        lead = rng.choice("4445556789")
        return Decimal(f"{lead}{rng.randint(1000, 99999)}.{rng.randint(0, 99):02d}")
    return Decimal(str(round(10 ** rng.uniform(3, 6), 2)))  # log-uniform: Benford's law


class World:
    def __init__(self) -> None:
        from minsheng.testing.factories import build_org

        self.org = build_org()
        self.rng = random.Random(20261125)
        self.serial = 0
        self.suppliers: list[Any] = []

    def suppliers_needed(self, n: int) -> None:
        from minsheng.procurement.models import Supplier

        start = len(self.suppliers)
        new = [Supplier(name=f"基准供应商{i:05d}有限公司", credit_code=f"91330100BM{i:08d}", address=f"青溪市{i}号")
               for i in range(start, n)]
        self.suppliers += Supplier.objects.bulk_create(new, batch_size=CHUNK)

    def processes(self, n: int, *, milestones: int = 3) -> list[Any]:
        """n projects, each with an approved budget, a contracted tender (3 opened bids, an award), a contract
        with `milestones` milestones, an approved change order on every third. Returns the contracts."""
        from minsheng.finance.models import BudgetVersion
        from minsheng.procurement.models import Award, Bid, Contract, ContractMilestone, Tender, Variation
        from minsheng.projects import code as project_code
        from minsheng.projects.models import Project

        org, rng = self.org, self.rng
        self.suppliers_needed(max(300, len(self.suppliers)))
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        contracts: list[Any] = []
        for start in range(0, n, 2000):
            size = min(2000, n - start)
            projects = []
            for _i in range(size):
                self.serial += 1
                county = "a" if self.serial % 2 else "b"
                town = org.town_a if county == "a" else org.town_b
                dept = org.depts[f"{county}.housing"]
                projects.append(Project(
                    code=project_code.build(year=2026, region=town.region_code, department_kind=dept.kind,
                                            serial=self.serial).value,
                    name=f"基准项目{self.serial:06d}", domain="housing", division=town, division_path=town.path,
                    lead_department=dept, responsible_person=org.user(f"{county}_housing"),
                    estimate_amount=Decimal("5000000.00"),
                ))
            projects = Project.objects.bulk_create(projects)
            budgets = BudgetVersion.objects.bulk_create([
                BudgetVersion(project=p, kind="budget", number=1, status="approved", total=Decimal("5000000.00"),
                              prepared_by=p.responsible_person, approved_by=p.responsible_person)
                for p in projects])
            tenders = []
            for p, b in zip(projects, budgets, strict=True):
                published = now - dt.timedelta(days=rng.randint(60, 400))
                days = 20 if rng.random() > 0.05 else rng.randint(5, 15)
                tenders.append(Tender(
                    project=p, budget_version=b, reference=f"BZ-{p.code}", title=f"{p.name}施工", category="works",
                    method="open", value=Decimal("4000000.00"), status="contracted", published_at=published,
                    submission_start=published, submission_deadline=published + dt.timedelta(days=days),
                    clarification_deadline=published + dt.timedelta(days=days - 5), opened_at=published
                    + dt.timedelta(days=days), created_by=p.responsible_person))
            tenders = Tender.objects.bulk_create(tenders)
            bids = []
            for t in tenders:
                for k, s in enumerate(rng.sample(self.suppliers, 3)):
                    price = Decimal(rng.randint(3_200_000, 3_990_000))
                    bids.append(Bid(tender=t, supplier=s, submitted_by=t.created_by,
                                    submitted_at=t.submission_deadline - dt.timedelta(hours=k + 1),
                                    ephemeral_public_key=b"k", nonce=b"n", ciphertext=b"c", commitment="0" * 64,
                                    status="winner" if k == 0 else "opened", price=price,
                                    opened_at=t.submission_deadline))
            bids = Bid.objects.bulk_create(bids, batch_size=CHUNK)
            awards = Award.objects.bulk_create([
                Award(tender=b.tender, bid=b, supplier=b.supplier, value=b.price,
                      decided_at=b.tender.submission_deadline + dt.timedelta(days=5), decided_by=b.submitted_by,
                      standstill_until=b.tender.submission_deadline + dt.timedelta(days=8), status="active")
                for b in bids[::3]])
            batch = Contract.objects.bulk_create([
                Contract(project=a.tender.project, tender=a.tender, award=a, supplier=a.supplier,
                         number=f"HT-{a.tender.project.code}", title=f"{a.tender.title}合同", value=a.value,
                         signed_on=(a.decided_at + dt.timedelta(days=10)).date(),
                         period_start=(a.decided_at + dt.timedelta(days=10)).date(),
                         period_end=(a.decided_at + dt.timedelta(days=190)).date(), created_by=a.decided_by)
                for a in awards])
            ContractMilestone.objects.bulk_create([
                ContractMilestone(contract=c, position=m, title=f"第{m}节点", due_date=c.period_start
                                  + dt.timedelta(days=60 * m), amount=(c.value / milestones).quantize(Decimal("0.01")),
                                  status="met" if m == 1 else "scheduled")
                for c in batch for m in range(1, milestones + 1)], batch_size=CHUNK)
            Variation.objects.bulk_create([
                Variation(contract=c, number=1, reason="增加工程量", amount=(c.value * Decimal("0.06")).quantize(
                    Decimal("0.01")), status="approved", requested_by=c.created_by, decided_by=c.created_by,
                    decided_at=now) for c in batch[::3]])
            contracts += batch
        return contracts

    def direct_purchases(self, n: int) -> list[Any]:
        """Contracts without a tender, some just under the works threshold, some split by one supplier."""
        from minsheng.procurement.models import Contract, ContractMilestone
        from minsheng.projects.models import Project

        rng = self.rng
        projects = list(Project.objects.order_by("?")[:max(1, n // 4)])
        rows = []
        today = dt.date.today()
        for i in range(n):
            p = projects[i % len(projects)]
            value = (Decimal(rng.randint(3_810_000, 3_990_000)) if i % 50 == 0
                     else Decimal(rng.randint(50_000, 900_000)))
            signed = today - dt.timedelta(days=rng.randint(0, 700))
            rows.append(Contract(project=p, supplier=rng.choice(self.suppliers), number=f"CG-{i * 7 + i % 3:07d}",
                                 title="直接采购", value=value, signed_on=signed, period_start=signed,
                                 period_end=signed + dt.timedelta(days=90), created_by=p.responsible_person))
        contracts = Contract.objects.bulk_create(rows, batch_size=CHUNK)
        ContractMilestone.objects.bulk_create([
            ContractMilestone(contract=c, position=1, title="交付", due_date=c.period_end, amount=c.value)
            for c in contracts], batch_size=CHUNK)
        return contracts

    def payments(self, total: int, *, duplicates: int = 0, skew_county: str = "b") -> int:
        """`total` paid payments spread over every contract's milestones (COPY on PostgreSQL); `duplicates` of
        them repeat the previous payment's invoice number."""
        from django.apps import apps
        from django.db import connection

        PaymentRequest = apps.get_model("finance", "PaymentRequest")
        from minsheng.procurement.models import ContractMilestone

        rng = self.rng
        targets = list(ContractMilestone.objects.values_list(
            "pk", "contract_id", "contract__project_id", "contract__project__division_path",
            "contract__project__responsible_person_id"))
        skew_path = (self.org.county_a if skew_county == "a" else self.org.county_b).path
        fields = [f for f in PaymentRequest._meta.concrete_fields if not f.primary_key]
        columns = [f.column for f in fields]
        start = dt.date.today() - dt.timedelta(days=720)
        requested = dt.datetime.now(dt.UTC)
        pg = connection.vendor == "postgresql"
        if pg:
            from psycopg.types.json import Jsonb

        def rows():
            for i in range(total):
                ms, contract, project, path, person = targets[i % len(targets)]
                amount = _amount(rng, skew=path.startswith(skew_path) and i % 7 == 0)
                invoice = f"{i:020d}"
                date = start + dt.timedelta(days=rng.randint(0, 719))
                if duplicates and i % max(1, total // duplicates) == 1 and i > 1:
                    invoice = f"{i - 1:020d}"
                values = {
                    "project_id": project, "contract_id": contract, "milestone_id": ms, "amount": amount,
                    "currency": "CNY", "invoice_number": invoice, "invoice_amount": amount, "invoice_date": date,
                    "measured_quantities": Jsonb([]) if pg else "[]", "status": "paid", "requested_by_id": person,
                    "requested_at": requested, "paid_on": date, "payment_voucher": "",
                }
                out = []
                for f in fields:
                    if f.attname in values:
                        out.append(values[f.attname])
                    elif f.has_default():
                        d = f.get_default()
                        out.append((Jsonb(d) if pg else json.dumps(d)) if isinstance(d, list | dict) else d)
                    else:
                        out.append(None)
                yield tuple(out)

        with connection.cursor() as cursor:
            if pg:
                with cursor.cursor.copy(
                    f"COPY {PaymentRequest._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows():
                        copy.write_row(row)
                cursor.execute(f"ANALYZE {PaymentRequest._meta.db_table}")
            else:
                marks = ", ".join(["%s"] * len(columns))
                batch = []
                for row in rows():
                    batch.append(row)
                    if len(batch) == CHUNK:
                        cursor.executemany(f"INSERT INTO {PaymentRequest._meta.db_table} ({', '.join(columns)}) "
                                           f"VALUES ({marks})", batch)
                        batch = []
                if batch:
                    cursor.executemany(f"INSERT INTO {PaymentRequest._meta.db_table} ({', '.join(columns)}) "
                                       f"VALUES ({marks})", batch)
        return total


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
