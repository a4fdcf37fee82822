"""Walk a credit application through the workflow with the fixed test people.

Tests of later steps start from a real earlier state rather than a faked one, so a
change to an early step's rules shows up wherever it matters.
"""

import datetime
from decimal import Decimal

from creditfile.credit.choices import ApplicationKind, ApplicationState
from creditfile.credit.services import workflow

S = ApplicationState

ORDER = [
    S.DRAFT,
    S.SUBMITTED,
    S.INVESTIGATING,
    S.EVALUATING,
    S.APPROVING,
    S.APPROVED,
    S.GRANTED,
]

EVALUATION_FORM = {
    "main_business": "电子元器件分销",
    "expected_purchases": "2400000",
    "payment_terms_asked": "月结45天",
    "industry_reputation": "good",
    "cooperation_attitude": "good",
    "sales_comment": "客户经营稳定，回款及时。",
}


def walk_to(
    org,
    customer,
    state: str,
    *,
    amount: Decimal = Decimal("300000"),
    kind: str = ApplicationKind.NEW,
    requester=None,
    temporary_until: datetime.date | None = None,
    grade: str | None = "A",
):
    """An application for `customer` in `state`, every step taken by the usual person.

    alice (sales) applies and fills the forms, carl (credit staff) investigates,
    fiona (finance) scores, the matrix's approvers approve, carl grants. The scored
    grade is pinned to `grade` (None: whatever the scorecard gives this customer), so
    tests of the workflow do not depend on the scorecard's bands.
    """
    requester = requester or org.alice
    application = workflow.create_application(
        customer,
        requester,
        requested_limit=amount,
        requested_term_days=30,
        purpose="年度赊销",
        kind=kind,
        temporary_until=temporary_until,
    )
    target = ORDER.index(state)
    if target >= ORDER.index(S.SUBMITTED):
        workflow.submit(application, requester)
    if target >= ORDER.index(S.INVESTIGATING):
        workflow.start_investigation(application, org.carl)
    if target >= ORDER.index(S.EVALUATING):
        workflow.save_site_survey(
            application,
            requester,
            visited_on=datetime.date.today(),
            financial_condition="良好",
            impression="可以合作",
        )
        workflow.save_pre_contract_review(
            application,
            org.carl,
            legal_standing_ok=True,
            agent_authority_ok=True,
            capacity_ok=True,
            documents_authentic=True,
        )
        workflow.complete_investigation(application, org.carl)
    if target >= ORDER.index(S.APPROVING):
        workflow.save_evaluation_form(application, requester, EVALUATION_FORM)
        evaluation = workflow.score(application, org.fiona, review_comment="同意")
        if grade:
            type(evaluation).objects.filter(pk=evaluation.pk).update(grade=grade)
            type(application).objects.filter(pk=application.pk).update(approved_grade=grade)
        workflow.submit_for_approval(application, org.fiona)
    if target >= ORDER.index(S.APPROVED):
        approve_all(org, application)
    if target >= ORDER.index(S.GRANTED):
        workflow.grant(application, org.carl)
    application.refresh_from_db()
    return application


APPROVERS_BY_ROLE = ("cathy", "victor", "george", "dora")


def approve_all(org, application) -> None:
    """Each pending level approved by the fixed person holding its role."""
    from creditfile.credit.services.approval import decide, pending_rule

    while True:
        application.refresh_from_db()
        if application.state != S.APPROVING:
            return
        rule = pending_rule(application)
        approver = next(
            org.users[name] for name in APPROVERS_BY_ROLE if org.users[name].has_role(rule.role)
        )
        decide(application, approver, "approve")
