"""The permission matrix (issue 5, R-40): every endpoint × every role × every confidentiality level.

The endpoints are discovered, not listed by hand: every URL pattern of the URLconf and
every operation of the API's OpenAPI schema. Each must have an entry in WEB or API below
saying what kind of endpoint it is (tests/matrix_rules.py); the kind gives the expected
answer for each person (tests/matrix_fixture.py: one per role, plus the file's owner, a
manager of another department, a superuser and nobody) and each level of a customer file
(company / department / personal). A new endpoint without an entry fails
test_it_has_an_entry_for_every_endpoint, an entry for a removed endpoint fails
test_it_has_no_entry_without_an_endpoint.

Writes are sent with an empty form (web) or the smallest body the schema accepts (API);
each cell runs in its own savepoint, so nothing a write does outlives the cell.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import matrix_fixture as mf
from tests.matrix_rules import (
    ALLOW,
    FORBIDDEN,
    HIDDEN,
    LOGIN,
    REACH,
    STUB,
    Ref,
    among,
    api,
    customer,
    public,
    route,
    screen,
    signed,
    step,
)

# -- what is not part of the matrix, and why ------------------------------------------------

# URL namespaces left out: Django's admin has its own staff/superuser gate and is not a
# screen of the system (the administrator works in the app's own screens).
EXCLUDED_NAMESPACES = {"admin"}
# URL names left out: switching the interface language (no data, open to everyone).
EXCLUDED_NAMES = {"set_language"}
# API operations are matrix entries of their own (API below); their URL patterns are the
# API's router views, recognised by the module their view comes from.
API_VIEW_MODULE = "ninja.operation"

S = "customers."
C = "credit."
R = "receivables."
CONTACTS = {"section": "contacts"}
MANAGE = "credit.manage_policy"
TEMPLATE = {"template": Ref("template")}
REQUEST = {"pk": Ref("read_request")}
LEND = "access.lend_files"
AUDIT = "access.view_audit_trail"
MISSING = {"pk": Ref("missing")}
HANDOVER_VIEW = "core.view_handoverrecord"
HANDOVER_LETTER = {"pk": Ref("missing"), "customer_id": Ref("missing"), "extension": "pdf"}
DSR_CHANGE = S + "change_datasubjectrequest"

# -- the table: one line per endpoint ---------------------------------------------------------
# Customer pages (pk = the customer unless args say otherwise) answer a file the user may
# not read with the stub (403); objects found through the visible-customer filter are a
# 404. `perm_first`: the view checks the role before the file.
WEB = {
    "/": signed(),
    "login": public(),
    "logout": public(method="post", ok=LOGIN),  # signed out: back to the login page
    "password_change": signed(),
    "password_change_done": signed(),
    "api_tokens": signed(),
    "confirm_password": signed(),
    "api-1:openapi-json": signed(),
    "api-1:openapi-view": signed(),
    "api-1:api-root": public(ok=HIDDEN),  # Ninja has no page at the root of /api/v1/
    # access: read requests and lending (R-41); walt's request of each level's file
    "access:requests": signed(),
    "access:request_new": signed(),
    "access:request_detail": among(mf.REQUEST_VIEWERS, args=REQUEST),
    "access:step_decide": among(
        mf.REQUEST_VIEWERS,
        workflow=True,
        method="post",
        args={**REQUEST, "step_pk": Ref("request_step")},
    ),
    "access:request_withdraw": among(
        mf.REQUEST_VIEWERS, workflow=True, method="post", args=REQUEST
    ),
    "access:request_lend": among(
        mf.REQUEST_VIEWERS, LEND, perm_first=True, workflow=True, method="post", args=REQUEST
    ),
    "access:lendings": screen(LEND),
    "access:lending_return": screen(LEND, method="post", args={"pk": Ref("lending")}),
    "access:settings": screen("access.manage_access_settings"),
    # access: the auditor's screen (R-47) and the managers' weekly violation summaries (R-42)
    "audit:trail": screen(AUDIT),
    "audit:trail_export": screen(AUDIT),
    "audit:violations": screen((AUDIT, *mf.MANAGING), any_of=True),
    "audit:violation": screen((AUDIT, *mf.MANAGING), any_of=True, args=MISSING, ok=HIDDEN),
    # handover when an employee leaves (R-43)
    "handover:list": screen(HANDOVER_VIEW),
    "handover:start": screen("core.hand_over"),
    "handover:detail": screen(HANDOVER_VIEW, args=MISSING, ok=HIDDEN),
    "handover:letter_pdf": screen(HANDOVER_VIEW, args=HANDOVER_LETTER, ok=HIDDEN),
    "handover:letter_docx": screen(
        HANDOVER_VIEW, args={**HANDOVER_LETTER, "extension": "docx"}, ok=HIDDEN
    ),
    "handover:letters_zip": screen(HANDOVER_VIEW, args=MISSING, ok=HIDDEN),
    "handover:letter_template": screen("core.change_handoverlettertemplate"),
    # personal-data requests 个人信息主体请求 (PIPL)
    "customers:data_requests": screen(S + "view_datasubjectrequest"),
    "customers:data_request_add": screen(S + "add_datasubjectrequest"),
    "customers:data_request": screen(S + "view_datasubjectrequest", args=MISSING, ok=HIDDEN),
    "customers:data_request_copy": screen(DSR_CHANGE, method="post", args=MISSING, ok=HIDDEN),
    "customers:data_request_erase": screen(DSR_CHANGE, method="post", args=MISSING, ok=HIDDEN),
    # customers: lists and global screens
    "customers:list": signed(),
    "customers:export": screen(S + "export_customers"),
    "customers:create": screen(S + "add_customer"),
    "customers:create_validate": screen(S + "add_customer", method="post"),
    "customers:import": screen(S + "import_customers"),
    "customers:import_template": screen(S + "import_customers"),
    "customers:import_report": screen(S + "import_customers", ok=HIDDEN),  # none this session
    "customers:classification": signed(),
    "customers:regions": screen(S + "view_region"),
    "customers:region_children": screen(S + "view_region", args={"pk": Ref("region")}),
    "customers:dictionary": screen(S + "view_industry", args={"kind": "industry"}),
    "customers:dictionary_add": screen(S + "add_industry", args={"kind": "industry"}),
    "customers:dictionary_edit": screen(
        S + "change_industry", args={"kind": "industry", "pk": Ref("industry")}
    ),
    "customers:dictionary_toggle": screen(
        S + "change_industry", method="post", args={"kind": "industry", "pk": Ref("industry")}
    ),
    "customers:dictionary_delete": screen(
        S + "delete_industry", method="post", args={"kind": "industry", "pk": Ref("industry")}
    ),
    # customers: visit routes (alice's route, its one stop is the company-level file)
    "customers:routes": screen(S + "view_route"),
    "customers:route_add": screen(S + "add_route"),
    "customers:route": route(),
    "customers:route_sheet": route(),
    "customers:route_edit": route(edit=True),
    "customers:route_candidates": route(edit=True),
    "customers:route_delete": route(edit=True, perm=S + "delete_route", method="post"),
    "customers:route_stop_add": route(edit=True, method="post"),
    "customers:route_stop_move": route(edit=True, method="post", args={"stop_pk": Ref("stop")}),
    "customers:route_stop_remove": route(edit=True, method="post", args={"stop_pk": Ref("stop")}),
    # customers: one file
    "customers:detail": customer(stub=True),
    "customers:timeline": customer(),
    "customers:card_pdf": customer(),
    "customers:section": customer(args=CONTACTS),
    "customers:key_person_reveal": customer(
        S + "view_personal_details", method="post", args={"item": Ref("key_person")}
    ),
    "customers:attachment_download": customer(),
    "customers:edit": customer(S + "change_customer", edit=True),
    "customers:edit_validate": customer(S + "change_customer", edit=True, method="post"),
    "customers:lifecycle": customer(S + "change_lifecycle", edit=True),
    "customers:attachment_upload": customer(S + "add_attachment", edit=True),
    "customers:section_add": customer(S + "add_contact", edit=True, args=CONTACTS),
    "customers:section_upsert": customer(
        S + "add_characteristics", edit=True, args={"section": "characteristics"}
    ),
    "customers:section_validate": customer(
        S + "add_contact", edit=True, method="post", args=CONTACTS
    ),
    "customers:section_edit": customer(
        S + "change_contact", edit=True, args={**CONTACTS, "item": Ref("contact")}
    ),
    "customers:section_delete": customer(
        S + "delete_contact", edit=True, method="post", args={**CONTACTS, "item": Ref("contact")}
    ),
    "customers:section_verify": customer(
        S + "verify_section", edit=True, method="post", args={**CONTACTS, "item": Ref("contact")}
    ),
    # credit: queues and global screens
    "credit:queue": signed(),
    "credit:applications": signed(),
    "credit:reviews": signed(),
    "credit:config": screen(C + "view_gradepolicy"),
    "credit:grade_terms": screen(C + "view_gradeterms"),
    "credit:policies": screen(C + "view_gradepolicy"),
    "credit:policy_detail": screen(C + "view_gradepolicy", args={"pk": Ref("policy")}),
    "credit:policy_copy": screen(MANAGE, method="post", args={"pk": Ref("policy")}),
    "credit:policy_edit": screen(MANAGE, args={"pk": Ref("policy")}),
    "credit:policy_activate": screen(MANAGE, method="post", args={"pk": Ref("policy")}),
    "credit:scorecards": screen(C + "view_scorecard"),
    "credit:scorecard_detail": screen(C + "view_scorecard", args={"pk": Ref("scorecard")}),
    "credit:scorecard_copy": screen(MANAGE, method="post", args={"pk": Ref("scorecard")}),
    "credit:scorecard_edit": screen(MANAGE, args={"pk": Ref("scorecard")}),
    "credit:scorecard_activate": screen(MANAGE, method="post", args={"pk": Ref("scorecard")}),
    "credit:approval_rules": screen(C + "view_approvalrule"),
    "credit:approval_preview": screen(C + "view_approvalrule"),
    "credit:approval_rule_add": screen(MANAGE),
    "credit:approval_rule_edit": screen(MANAGE, args={"pk": Ref("approval_rule")}),
    "credit:approval_rule_toggle": screen(MANAGE, method="post", args={"pk": Ref("approval_rule")}),
    "credit:letter_templates": screen(C + "change_lettertemplate"),
    "credit:letter_template_preview": screen(C + "change_lettertemplate", method="post"),
    "credit:letter_template_edit": screen(C + "change_lettertemplate", args={"kind": "approved"}),
    "credit:companies": screen(("core.view_company", "core.change_company"), any_of=True),
    "credit:company_add": screen("core.add_company"),
    "credit:company_edit": screen("core.change_company", args={"pk": Ref("company")}),
    "credit:rating_import": screen((C + "add_externalrating", C + "change_externalrating")),
    "credit:rating_import_template": screen(
        (C + "add_externalrating", C + "change_externalrating")
    ),
    "credit:rating_import_report": screen(
        (C + "add_externalrating", C + "change_externalrating"), ok=HIDDEN
    ),
    "credit:payment_import": screen((C + "add_paymentsummary", C + "change_paymentsummary")),
    "credit:payment_import_template": screen(
        (C + "add_paymentsummary", C + "change_paymentsummary")
    ),
    "credit:payment_import_report": screen(
        (C + "add_paymentsummary", C + "change_paymentsummary"), ok=HIDDEN
    ),
    "credit:credit_groups": screen(C + "view_creditgroup"),
    "credit:credit_group_add": screen(C + "add_creditgroup"),
    "credit:credit_group": screen(C + "view_creditgroup", args={"pk": Ref("credit_group")}),
    "credit:credit_group_edit": screen(C + "change_creditgroup", args={"pk": Ref("credit_group")}),
    "credit:sanction_proposals": screen(C + "view_gradechangeproposal"),
    "credit:sanction_run": screen(
        (C + "add_gradechangeproposal", C + "add_blacklistentry"), method="post"
    ),
    "credit:blacklist": screen(C + "view_blacklistentry"),
    "credit:breaches": screen(C + "view_ownbreach"),
    "credit:breach_add": screen(C + "add_ownbreach"),
    # credit: one customer
    "credit:customer_credit": customer(args={"customer_pk": Ref("customer")}),
    "credit:application_create": customer(C + "add_creditapplication"),
    "credit:customer_lines": customer(C + "view_creditline", perm_first=True),
    "credit:customer_panel": customer(C + "view_creditline", perm_first=True),
    "credit:group_line": customer((C + "view_creditline", C + "grant_credit")),
    "credit:group_line_end": customer((C + "view_creditline", C + "grant_credit"), method="post"),
    "credit:security_add": customer((C + "view_creditline", C + "add_creditsecurity")),
    "credit:security_edit": customer(
        (C + "view_creditline", C + "change_creditsecurity"), deny=HIDDEN
    ),
    "credit:security_end": customer(
        (C + "view_creditline", C + "change_creditsecurity"), deny=HIDDEN, method="post"
    ),
    "credit:ratings": customer(C + "view_externalrating"),
    "credit:rating_add": customer(C + "add_externalrating"),
    "credit:credit_group_remove": customer(
        C + "change_creditgroup", perm_first=True, method="post", args={"pk": Ref("credit_group")}
    ),
    "credit:refusal_create": customer(C + "add_customerrefusal"),
    "credit:customer_reviews": customer(),
    "credit:review_request": customer(
        (C + "add_creditreview", C + "add_creditapplication"), any_of=True
    ),
    "credit:customer_sanctions": customer(C + "view_measure", perm_first=True),
    "credit:sanction_panel": customer(C + "view_measure", perm_first=True),
    "credit:breach_edit": customer(
        (C + "view_ownbreach", C + "change_ownbreach"), deny=HIDDEN, args={"pk": Ref("breach")}
    ),
    "credit:breach_close": customer(
        (C + "view_ownbreach", C + "change_ownbreach"), deny=HIDDEN, args={"pk": Ref("breach")}
    ),
    # credit: objects of one customer
    "credit:application": customer(deny=HIDDEN, args={"pk": Ref("application")}),
    "credit:evaluation": customer(deny=HIDDEN, args={"pk": Ref("evaluation")}),
    "credit:refusal": customer(deny=HIDDEN, args={"pk": Ref("refusal")}),
    "credit:review": customer(deny=HIDDEN, args={"pk": Ref("review")}),
    "credit:collection_item_add": customer(
        C + "add_collectionitem", deny=HIDDEN, args={"pk": Ref("application")}
    ),
    "credit:collection_item_edit": customer(
        C + "change_collectionitem",
        deny=HIDDEN,
        args={"pk": Ref("application"), "item": Ref("collection_item")},
    ),
    "credit:letter_pdf": customer(C + "view_replyletter", deny=HIDDEN, args={"pk": Ref("letter")}),
    "credit:letter_docx": customer(C + "view_replyletter", deny=HIDDEN, args={"pk": Ref("letter")}),
    "credit:application_action": step(
        deny=HIDDEN, method="post", args={"pk": Ref("application"), "action": "withdraw"}
    ),
    "credit:letter_generate": step(
        C + "view_replyletter", deny=HIDDEN, method="post", args={"pk": Ref("application")}
    ),
    "credit:refusal_decide": customer(
        C + "approve_application", deny=HIDDEN, method="post", args={"pk": Ref("refusal")}
    ),
    "credit:refusal_done": customer(
        C + "change_customerrefusal", deny=HIDDEN, method="post", args={"pk": Ref("refusal")}
    ),
    "credit:review_prepare": step(deny=HIDDEN, method="post", args={"pk": Ref("review")}),
    "credit:review_submit": step(deny=HIDDEN, method="post", args={"pk": Ref("review")}),
    "credit:review_complete": step(deny=HIDDEN, method="post", args={"pk": Ref("review")}),
    "credit:review_cancel": step(deny=HIDDEN, method="post", args={"pk": Ref("review")}),
    "credit:sanction_accept": step(deny=HIDDEN, method="post", args={"pk": Ref("proposal")}),
    "credit:sanction_dismiss": step(deny=HIDDEN, method="post", args={"pk": Ref("proposal")}),
    "credit:measure_end": step(deny=HIDDEN, method="post", args={"pk": Ref("measure")}),
    "credit:blacklist_action": step(
        deny=HIDDEN, method="post", args={"pk": Ref("blacklist"), "action": "reject"}
    ),
    # receivables: global screens
    "receivables:home": screen(R + "view_invoice"),
    "receivables:blocked": screen(R + "view_salesorder"),
    "receivables:settings": screen(R + "view_creditcontrol"),
    "receivables:dunning_policy": screen(R + "view_dunningpolicy"),
    "receivables:imports": screen(R + "import_ledger"),
    "receivables:import_mappings": screen(R + "import_ledger"),
    "receivables:import_mapping_new": screen(R + "import_ledger"),
    "receivables:import_mapping": screen(R + "import_ledger", args={"pk": Ref("mapping")}),
    "receivables:import_job": screen(R + "import_ledger", args={"pk": Ref("job")}),
    "receivables:import_job_progress": screen(R + "import_ledger", args={"pk": Ref("job")}),
    "receivables:import_job_report": screen(R + "import_ledger", args={"pk": Ref("job")}),
    "receivables:cases": screen(R + "view_collectioncase"),
    "receivables:runs": screen(R + "view_dunningrun"),
    "receivables:run": screen(R + "view_dunningrun", args={"pk": Ref("run")}),
    "receivables:run_confirm": screen(
        (R + "view_dunningrun", R + "run_dunning"), method="post", args={"pk": Ref("run")}
    ),
    "receivables:run_cancel": screen(
        (R + "view_dunningrun", R + "run_dunning"), method="post", args={"pk": Ref("run")}
    ),
    "receivables:run_letters": screen(
        (R + "view_dunningrun", R + "view_dunningletter"), args={"pk": Ref("run")}
    ),
    "receivables:templates": screen(R + "view_dunningtemplate"),
    "receivables:template_add": screen(R + "add_dunningtemplate"),
    "receivables:template_edit": screen(R + "change_dunningtemplate", args={"pk": Ref("template")}),
    "receivables:template_preview": screen(
        (R + "add_dunningtemplate", R + "change_dunningtemplate"), any_of=True, method="post"
    ),
    "receivables:aging": screen(R + "view_invoice"),
    "receivables:aging_invoices": screen(R + "view_invoice"),
    "receivables:aging_export": screen((R + "view_invoice", S + "export_customers")),
    "receivables:aging_buckets": screen(R + "change_creditcontrol", method="post"),
    "receivables:writeoffs": screen(R + "view_writeoff"),
    # receivables: one customer, or an object of one
    "receivables:customer": customer(R + "view_invoice", perm_first=True),
    "receivables:customer_collections": customer(R + "view_collectioncase", perm_first=True),
    "receivables:case_open": customer(R + "add_collectioncase", perm_first=True, method="post"),
    "receivables:case": customer(
        R + "view_collectioncase", perm_first=True, deny=HIDDEN, args={"pk": Ref("case")}
    ),
    "receivables:case_action": step(
        (R + "add_collectionaction", R + "change_collectioncase"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("case")},
    ),
    "receivables:case_promise": step(
        (R + "add_paymentpromise", R + "change_collectioncase"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("case")},
    ),
    "receivables:case_follow_up": step(
        R + "change_collectioncase",
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("case")},
    ),
    "receivables:case_close": step(
        R + "change_collectioncase",
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("case")},
    ),
    "receivables:case_assign": step(
        R + "assign_collectioncase",
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("case")},
    ),
    "receivables:case_letter": step(
        (R + "add_dunningletter", R + "change_collectioncase"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("case")},
        data=TEMPLATE,
    ),
    "receivables:dunning_letter_pdf": customer(
        R + "view_dunningletter", perm_first=True, deny=HIDDEN, args={"pk": Ref("dunning_letter")}
    ),
    "receivables:dunning_letter_docx": customer(
        R + "view_dunningletter", perm_first=True, deny=HIDDEN, args={"pk": Ref("dunning_letter")}
    ),
    "receivables:order_release": step(
        R + "view_salesorder",
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("order")},
    ),
    "receivables:order_reject": step(
        R + "view_salesorder",
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("order")},
    ),
    "receivables:order_recheck": step(
        (R + "check_credit", R + "view_salesorder"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("order")},
    ),
    "receivables:writeoff_propose": customer(
        R + "add_writeoff", perm_first=True, deny=HIDDEN, args={"pk": Ref("invoice")}
    ),
    "receivables:writeoff_approve": step(
        (R + "approve_writeoff", R + "view_writeoff"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("writeoff")},
    ),
    "receivables:writeoff_reject": step(
        (R + "approve_writeoff", R + "view_writeoff"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("writeoff")},
    ),
    "receivables:writeoff_reverse": step(
        (R + "approve_writeoff", R + "view_writeoff"),
        perm_first=True,
        deny=HIDDEN,
        method="post",
        args={"pk": Ref("writeoff")},
    ),
}

# API operations, keyed by operationId. Ids in the path and `customer_id` in bodies point
# at the level's file; an unreadable customer is a 404 in the API (policy spec).
_API = "creditfile_customers_api_"
_CR = "creditfile_credit_api_"
_RC = "creditfile_receivables_api_"
API = {
    _API + "list_customers": screen(S + "view_customer"),
    _API + "create_customer": screen(S + "add_customer", method="post"),
    _API + "get_customer": api(S + "view_customer"),
    _API + "update_customer": api(S + "change_customer", edit=True, method="patch"),
    _API + "list_key_persons": api(S + "view_keyperson"),
    _API + "reveal_key_person": api(S + "view_personal_details", method="post"),
    _API + "list_contacts": api(S + "view_contact"),
    _API + "create_contact": api(S + "add_contact", edit=True, method="post"),
    _API + "update_contact": api(S + "change_contact", edit=True, method="patch"),
    _API + "delete_contact": api(S + "delete_contact", edit=True, method="delete"),
    _API + "list_attachments": api(S + "view_attachment"),
    _CR + "list_applications": screen(C + "view_creditapplication"),
    _CR + "create_application": api(C + "add_creditapplication", method="post"),
    _CR + "get_application": api(C + "view_creditapplication"),
    _CR + "get_letter": api(C + "view_replyletter", perm_first=True),
    _CR + "letter_pdf": api(C + "view_replyletter", perm_first=True),
    _CR + "letter_docx": api(C + "view_replyletter", perm_first=True),
    _CR + "get_evaluation": api(C + "view_evaluation", perm_first=True),
    _CR + "customer_credit": api(C + "view_creditline"),
    _CR + "list_lines": screen(C + "view_creditline"),
    _CR + "list_reviews": screen(C + "view_creditreview"),
    _CR + "request_review": step(deny=HIDDEN, method="post"),
    _CR + "list_blacklist": screen(C + "view_blacklistentry"),
    _CR + "propose_blacklist": step(deny=HIDDEN, method="post"),
    _RC + "create_credit_check": api(R + "check_credit", perm_first=True, method="post"),
    _RC + "cancel": step(R + "check_credit", perm_first=True, deny=HIDDEN, method="post"),
    _RC + "reopen": step(R + "check_credit", perm_first=True, deny=HIDDEN, method="post"),
    _RC + "copy": step(R + "check_credit", perm_first=True, deny=HIDDEN, method="post"),
    _RC + "post_invoices": screen(R + "add_invoice", method="post"),
    _RC + "post_payments": screen(R + "add_payment", method="post"),
}
# The application workflow's steps: visible application → the workflow decides.
for _op in (
    "submit_application refuse_application decide_refusal start_investigation save_site_survey "
    "save_pre_contract_review complete_investigation save_evaluation_form score_application "
    "submit_for_approval decide request_info resume grant withdraw generate_letter"
).split():
    API[_CR + _op] = step(C + "view_creditapplication", perm_first=True, deny=HIDDEN, method="post")
for _op in ("approve_blacklist", "reject_blacklist", "propose_lift", "approve_lift", "reject_lift"):
    API[_CR + _op] = step(C + "view_blacklistentry", perm_first=True, deny=HIDDEN, method="post")

# -- discovery ---------------------------------------------------------------------------------


def _walk(resolver, prefix="", namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern


def discovered_web() -> set[str]:
    """URL names (or the path, for an unnamed pattern) of every web endpoint."""
    found = set()
    for path, namespace, pattern in _walk(get_resolver()):
        if getattr(pattern.callback, "__module__", "") == API_VIEW_MODULE:
            continue
        if pattern.name in EXCLUDED_NAMES:
            continue
        if pattern.name:
            found.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        else:
            found.add("/" + path)
    return found


def _schema():
    from creditfile.api import api as ninja_api

    return ninja_api.get_openapi_schema()


def discovered_api() -> dict[str, tuple[str, str]]:
    """operationId → (method, path) of every API operation."""
    found = {}
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            found[operation["operationId"]] = (method, path)
    return found


def test_it_has_an_entry_for_every_endpoint():
    missing_web = sorted(discovered_web() - set(WEB))
    missing_api = sorted(set(discovered_api()) - set(API))
    assert not missing_web and not missing_api, (
        "Endpoints without an entry in the permission matrix: add one line per endpoint to "
        "WEB (URL name) or API (operationId) in tests/test_permission_matrix.py saying who may "
        f"use it (see tests/matrix_rules.py). Web: {missing_web}; API: {missing_api}"
    )


def test_it_has_no_entry_without_an_endpoint():
    stale = sorted(set(WEB) - discovered_web()) + sorted(set(API) - set(discovered_api()))
    assert not stale, f"Matrix entries for endpoints that no longer exist: {stale}"


# The world (tests/matrix_fixture.py) is built once for the module.
world, world_media, _test_settings = mf.world, mf.world_media, mf._test_settings

# -- cells -----------------------------------------------------------------------------------------

_DEFAULT_REFS = {
    "pk": "customer",
    "customer_pk": "customer",
    "customer_id": "customer",
    "attachment_id": "attachment",
    "contact_id": "contact",
    "application_id": "application",
    "letter_id": "letter",
    "evaluation_id": "evaluation",
    "entry_id": "blacklist",
    "order_id": "order",
    "stop_pk": "stop",
    "line_pk": "group_line",
    "security_pk": "security",
    "person_id": "key_person",
}


def _value(world, level, value):
    if not isinstance(value, Ref):
        return value
    if level is not None:
        file = world.files[level]
        if value.name == "customer":
            return file.customer.pk
        if value.name in file.objects:
            return file.objects[value.name].pk
    return world.shared[value.name].pk


def _web_url(world, name, rule, level):
    if name.startswith("/"):
        return name
    kwargs = {}
    route_kwargs = _route_kwargs(name)
    for key in route_kwargs:
        value = rule.args.get(key, Ref(_DEFAULT_REFS.get(key, key)))
        kwargs[key] = _value(world, level, value)
    return reverse(name, kwargs=kwargs)


_ROUTE_KWARGS = {}


def _route_kwargs(name):
    if not _ROUTE_KWARGS:
        for path, namespace, pattern in _walk(get_resolver()):
            if pattern.name:
                full = f"{namespace}:{pattern.name}" if namespace else pattern.name
                _ROUTE_KWARGS[full] = list(pattern.pattern.converters) + re.findall(
                    r"<(?:\w+:)?(\w+)>", path
                )
    return list(dict.fromkeys(_ROUTE_KWARGS[name]))


def _sample(schema, components, world, level, name=""):
    """The smallest value the schema accepts; ids of customers point at the level's file."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _sample(options[0], components, world, level, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            key: _sample(props[key], components, world, level, key)
            for key in schema.get("required", [])
        }
    if kind == "array":
        return [_sample(schema["items"], components, world, level, name)]
    if kind == "integer":
        if name == "customer_id":
            return world.files[level or "company"].customer.pk
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "date":
        return "2026-12-07"
    if fmt == "date-time":
        return "2026-12-07T10:00:00+08:00"
    if fmt == "decimal" or name.endswith(("amount", "limit")):
        return "1.00"
    return "x"


def _api_call(world, operation_id, level):
    method, path = discovered_api()[operation_id]
    schema = _schema()
    operation = schema["paths"][path][method]
    url = path
    for key in re.findall(r"{(\w+)}", path):
        url = url.replace("{" + key + "}", str(_value(world, level, Ref(_DEFAULT_REFS[key]))))
    body = None
    if "requestBody" in operation:
        content = operation["requestBody"]["content"]["application/json"]["schema"]
        body = _sample(content, schema["components"]["schemas"], world, level)
    return method, url, body


def _cells(table, kind):
    for name, rule in table.items():
        levels = mf.LEVELS if rule.per_level else (None,)
        for level in levels:
            for subject in mf.SUBJECTS:
                yield pytest.param(
                    kind, name, subject, level, id=f"{name}-{subject}-{level or 'global'}"
                )


def _classify(response, is_api):
    status = response.status_code
    if status == 401:  # the API, and the schema at /api/v1/openapi.json
        return LOGIN
    if not is_api and status == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    if status == 404:
        return HIDDEN
    if status == 403:
        return FORBIDDEN
    return ALLOW


def _check(response, expected, rule, world, level, subject, method, is_api):
    actual = _classify(response, is_api)
    status = response.status_code
    detail = f"expected {expected}, got {actual} (HTTP {status})"
    if expected == REACH:
        assert actual in (ALLOW, FORBIDDEN), detail
    elif expected == STUB:
        assert status == 403, detail
    else:
        assert actual == expected, detail
    if actual == ALLOW and method == "get":
        assert status < 400, f"a read answered HTTP {status}"
    assert status != 405, "wrong method in the table entry"
    if level is not None and actual != ALLOW and hasattr(response, "content"):
        assert mf.secret(level).encode() not in response.content, "a refusal showed the file"
    if expected == STUB and rule.stub:
        text = response.content.decode()
        file = world.files[level].customer
        assert file.name in text and file.uscc in text, "the stub names the customer"


@pytest.mark.matrix_cells
@pytest.mark.parametrize(
    ("kind", "name", "subject", "level"), [*_cells(WEB, "web"), *_cells(API, "api")]
)
def test_it_answers_each_person_and_level_as_the_table_says(world, db, kind, name, subject, level):
    table = WEB if kind == "web" else API
    rule = table[name]
    expected = rule.expect(subject, level)
    client = mf.client_for(world, subject)
    if kind == "web":
        url = _web_url(world, name, rule, level)
        data = {k: _value(world, level, v) for k, v in (rule.data or {}).items()}
        if rule.method == "get":
            response = client.get(url)
        else:
            response = getattr(client, rule.method)(url, data)
        method = rule.method
    else:
        method, url, body = _api_call(world, name, level)
        headers = {}
        if subject != "anonymous":
            headers["Authorization"] = f"Bearer {world.tokens[subject]}"
        client = mf.client_for(world, "anonymous")  # the API is token-authenticated
        if body is None and method == "get":
            response = client.get(url, headers=headers)
        else:
            response = getattr(client, method)(
                url,
                body if body is not None else {},
                content_type="application/json",
                headers=headers,
            )
    _check(response, expected, rule, world, level, subject, method, kind == "api")
