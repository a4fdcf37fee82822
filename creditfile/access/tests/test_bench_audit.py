"""The audit benchmark's generator extends the real chain (verify accepts it, record()
continues it) and its page timing really toggles the audit event."""

from bench import audit as bench
from creditfile.access.models import AuditEvent
from creditfile.access.services import audit
from creditfile.access.services.verify import verify_chain
from creditfile.customers.testing import make_customer


def test_the_generated_events_continue_the_chain_and_verify(org):
    make_customer(owner=org.alice)
    first = audit.record(audit.Action.LOGIN, user=org.alice)
    added, _seconds = bench.generate_events(first.id + 1200, seed=3)
    assert added == 1200
    assert bench.generate_events(first.id + 1200, seed=3)[0] == 0  # only ever extended
    report = verify_chain()
    assert report.ok, report.problem
    assert report.checked == first.id + 1200
    after = audit.record(audit.Action.LOGOUT, user=org.alice)
    assert after.id == first.id + 1201
    assert verify_chain().ok


def test_the_page_timing_logs_events_only_on_the_audited_half(org):
    make_customer(owner=org.alice)
    real = audit.record_view
    result = bench.time_page(requests=3, seed=1)
    # 20 warm-up requests are audited; of the timed pairs only the first of each pair.
    assert result["events_logged"] == 3
    assert result["with_ms"] > 0 and result["without_ms"] > 0
    assert audit.record_view is real  # put back
    assert AuditEvent.objects.filter(action=audit.Action.SYSTEM, username="bench").count() == 200
