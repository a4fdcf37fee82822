"""The aging benchmark's own checks on a tiny ledger: the generated rows are the same every
time, open amounts agree with the payments, and DuckDB and the product give the same totals
(the benchmark fails when they do not)."""

import pytest

from bench import aging as bench
from creditfile.core.models import Company
from creditfile.receivables.models import Exposure, Invoice, Payment
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.aging import aging_report

SPEC = bench.Spec(customers=30, invoices=400, payments=250, seed=7)


def test_the_generated_ledger_is_the_same_every_time_with_exactly_the_payments_asked():
    first = list(bench.invoices_of(SPEC))
    assert first == list(bench.invoices_of(SPEC))
    assert sum(1 for row in first if row[5]) == SPEC.payments
    assert all(0 < row[5] <= row[4] for row in first if row[5])
    assert list(bench.invoices_of(bench.Spec(30, 400, 250, seed=8))) != first


@pytest.mark.django_db
def test_the_loaded_ledger_keeps_exposure_and_agrees_with_duckdb(monkeypatch):
    pytest.importorskip("duckdb")
    monkeypatch.setattr(bench.datasets, "analyze", lambda full=False: None)
    bench.load(SPEC)

    assert (Invoice.objects.count(), Payment.objects.count()) == (400, 250)
    company = Company.default()
    for row in Exposure.objects.all()[:10]:
        assert (row.open_receivables, row.open_orders) == exposures.recompute(
            row.customer_id, company.pk
        )
    reference = bench.duckdb_run(SPEC, runs=1, group_by="owner", documents=True)
    for way, from_documents in (("maintained", False), ("documents", True)):
        report = aging_report(bench.AS_OF, group_by="owner", from_documents=from_documents)
        assert bench._summary(report) == reference["results"][way]["summary"]
