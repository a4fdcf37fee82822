"""Two people acting on the same application at the same moment: exactly one wins.

Real threads with their own database connections, on whichever database the suite
runs on (SQLite in WAL mode with IMMEDIATE transactions, or PostgreSQL), released
together by a barrier so both are inside the decision at once.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from creditfile.credit.choices import ApplicationState, LineStatus
from creditfile.credit.models import ApprovalDecision, CreditApplication, CreditLine
from creditfile.credit.services import approval, workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.testing import walk_to
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Run the calls in parallel threads; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def second_credit_manager(org):
    from creditfile.core.models import User

    colleague = User.objects.create_user("carol", department=org.cathy.department)
    colleague.groups.set(org.cathy.groups.all())
    return colleague


def test_two_approvers_at_once_give_exactly_one_decision(org, second_credit_manager):
    customer = make_customer("并发审批有限公司", owner=org.alice)
    application = walk_to(org, customer, ApplicationState.APPROVING, amount=Decimal("100000"))

    outcomes = race(
        lambda: approval.decide(
            CreditApplication.objects.get(pk=application.pk), org.cathy, "approve"
        ),
        lambda: approval.decide(
            CreditApplication.objects.get(pk=application.pk),
            second_credit_manager,
            "reject",
            reason="额度过高",
        ),
    )

    wins = [o for o in outcomes if isinstance(o, ApprovalDecision)]
    losses = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    assert ApprovalDecision.objects.filter(application=application).count() == 1
    application.refresh_from_db()
    expected = {"approve": ApplicationState.APPROVED, "reject": ApplicationState.REJECTED}
    assert application.state == expected[wins[0].decision]
    assert application.steps.filter(action__startswith="decide").count() == 1


def test_two_people_granting_at_once_make_exactly_one_line(org):
    customer = make_customer("并发授信有限公司", owner=org.alice)
    application = walk_to(org, customer, ApplicationState.APPROVED, amount=Decimal("100000"))

    outcomes = race(
        lambda: workflow.grant(CreditApplication.objects.get(pk=application.pk), org.carl),
        lambda: workflow.grant(CreditApplication.objects.get(pk=application.pk), org.cathy),
    )

    assert sum(isinstance(o, CreditLine) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, WorkflowError) for o in outcomes) == 1, outcomes
    assert CreditLine.objects.filter(customer=customer).count() == 1
    assert CreditLine.objects.get(customer=customer).status == LineStatus.ACTIVE
