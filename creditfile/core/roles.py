"""The roles of DOMAIN.md, each a Django group holding a set of permissions.

The group name is the role code; the label is what people see. Permissions are
synced after every migrate, so a new permission reaches every role by itself.
"""

from django.utils.translation import gettext_lazy as _

SALES_REP = "sales_rep"
DEPT_MANAGER = "dept_manager"
CREDIT_STAFF = "credit_staff"
CREDIT_MANAGER = "credit_manager"
FINANCE = "finance"
MARKETING_DIRECTOR = "marketing_director"
VP = "vp"
GENERAL_MANAGER = "general_manager"
ARCHIVIST = "archivist"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    SALES_REP: _("销售代表"),
    DEPT_MANAGER: _("部门经理"),
    CREDIT_STAFF: _("信用管理员"),
    CREDIT_MANAGER: _("信用经理"),
    FINANCE: _("财务"),
    MARKETING_DIRECTOR: _("营销总监"),
    VP: _("营销副总"),
    GENERAL_MANAGER: _("总经理"),
    ARCHIVIST: _("档案管理员"),
    AUDITOR: _("内部审计"),
    ADMINISTRATOR: _("系统管理员"),
}

_FILE_SECTIONS = [
    "customer",
    "certification",
    "keyperson",
    "characteristics",
    "businessstatus",
    "competitor",
    "tradingstatus",
    "observation",
    "visit",
    "contact",
    "correspondence",
    "bankaccount",
    "financialstatement",
    "guarantee",
    "attachment",
    "fileevent",
]
_DICTIONARIES = [
    "industry",
    "ownership",
    "channeltype",
    "locationtype",
    "customernature",
    "region",
    "route",
    "routestop",
]


def _perms(actions, models, app="customers"):
    return [f"{app}.{action}_{model}" for model in models for action in actions]


_VIEW_FILE = _perms(["view"], _FILE_SECTIONS + _DICTIONARIES)
_EDIT_FILE = _perms(["add", "change", "delete"], _FILE_SECTIONS)
_EDIT_ROUTES = _perms(["add", "change", "delete"], ["route", "routestop"])
_CUSTOMER_EXTRA = [
    "customers.verify_section",
    "customers.change_lifecycle",
    "customers.import_customers",
    "customers.export_customers",
    "customers.view_personal_details",
]

_CREDIT_RECORDS = [
    "creditapplication",
    "applicationstep",
    "customerrefusal",
    "sitesurvey",
    "collectionitem",
    "precontractreview",
    "approvaldecision",
    "replyletter",
    "evaluation",
    "externalrating",
    "creditline",
    "temporarylimit",
    "creditsecurity",
    "creditgroup",
    "creditreview",
    "annualreviewreport",
    "gradechangeproposal",
    "measure",
    "blacklistentry",
    "ownbreach",
    "paymentsummary",
]
_CREDIT_CONFIG = [
    "gradepolicy",
    "gradeterms",
    "scorecard",
    "scorecardfactor",
    "approvalrule",
    "lettertemplate",
    "sanctionrule",
]
_VIEW_CREDIT = _perms(["view"], _CREDIT_RECORDS + _CREDIT_CONFIG, app="credit")
# Sales apply, fill the on-site survey and the evaluation form.
_APPLY = _perms(["add", "change"], ["creditapplication", "sitesurvey", "customerrefusal"], "credit")
# Credit staff run investigations, reviews, sanctions and the ledger of lines (R-21…R-27).
_RUN_CREDIT = _perms(["add", "change"], _CREDIT_RECORDS, app="credit") + ["credit.grant_credit"]
_APPROVE = ["credit.approve_application"]
_MANAGE_CREDIT_POLICY = _perms(["add", "change", "delete"], _CREDIT_CONFIG, app="credit") + [
    "credit.manage_policy"
]

_LEDGER = ["salesorder", "invoice", "payment", "allocation", "exposure", "writeoff"]
_VIEW_LEDGER = _perms(["view"], _LEDGER + ["creditcontrol"], app="receivables")
# Sales check their orders; finance posts invoices and payments; credit decides blocked
# orders.
_CHECK_ORDERS = ["receivables.check_credit"]
_POST_LEDGER = _perms(["add", "change"], ["invoice", "payment"], app="receivables")
_DECIDE_ORDERS = ["receivables.release_order"]
# ERP file imports and their saved column mappings (issue 4): who posts the ledger.
_IMPORT_LEDGER = ["receivables.import_ledger"] + _perms(
    ["view", "add", "change"], ["importmapping", "importjob"], app="receivables"
)
# Credit and finance propose bad-debt write-offs; credit manager, VP and GM approve them.
_PROPOSE_WRITEOFFS = ["receivables.add_writeoff"]
_APPROVE_WRITEOFFS = ["receivables.approve_writeoff"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: _VIEW_FILE
    + _EDIT_FILE
    + _EDIT_ROUTES
    + ["customers.change_lifecycle", "customers.export_customers"]
    + _VIEW_CREDIT
    + _APPLY,
    DEPT_MANAGER: _VIEW_FILE
    + _EDIT_FILE
    + _EDIT_ROUTES
    + [
        "customers.change_lifecycle",
        "customers.export_customers",
        "customers.view_personal_details",
    ]
    + _VIEW_CREDIT
    + _APPLY,
    CREDIT_STAFF: _VIEW_FILE + _EDIT_FILE + _CUSTOMER_EXTRA + _VIEW_CREDIT + _RUN_CREDIT,
    CREDIT_MANAGER: _VIEW_FILE
    + _EDIT_FILE
    + _EDIT_ROUTES
    + _CUSTOMER_EXTRA
    + _VIEW_CREDIT
    + _RUN_CREDIT
    + _APPROVE
    + _MANAGE_CREDIT_POLICY
    + ["core.view_company"],  # the letterhead of reply letters; the administrator edits it
    FINANCE: _VIEW_FILE
    + _perms(["add", "change"], ["financialstatement", "bankaccount", "guarantee", "attachment"])
    + ["customers.export_customers"]
    + _VIEW_CREDIT
    + ["credit.score_application", "credit.add_evaluation", "credit.change_evaluation"],
    MARKETING_DIRECTOR: _VIEW_FILE
    + _EDIT_FILE
    + _EDIT_ROUTES
    + _CUSTOMER_EXTRA
    + _VIEW_CREDIT
    + _APPROVE,
    VP: _VIEW_FILE
    + ["customers.export_customers", "customers.view_personal_details"]
    + _VIEW_CREDIT
    + _APPROVE,
    GENERAL_MANAGER: _VIEW_FILE
    + ["customers.export_customers", "customers.view_personal_details"]
    + _VIEW_CREDIT
    + _APPROVE,
    ARCHIVIST: _VIEW_FILE + ["customers.export_customers"] + _VIEW_CREDIT,
    AUDITOR: _VIEW_FILE + ["core.view_objectchange", "customers.export_customers"] + _VIEW_CREDIT,
    ADMINISTRATOR: _VIEW_FILE
    + _EDIT_FILE
    + _perms(["add", "change", "delete"], _DICTIONARIES)
    + _CUSTOMER_EXTRA
    + _perms(["view", "add", "change"], ["user", "department", "company"], app="core")
    + ["core.view_objectchange"]
    + _VIEW_CREDIT
    + _MANAGE_CREDIT_POLICY,
}

# The receivables ledger and the order check, role by role.
_RECEIVABLES = {
    SALES_REP: _VIEW_LEDGER + _CHECK_ORDERS,
    DEPT_MANAGER: _VIEW_LEDGER + _CHECK_ORDERS,
    CREDIT_STAFF: _VIEW_LEDGER + _CHECK_ORDERS + _PROPOSE_WRITEOFFS,
    CREDIT_MANAGER: _VIEW_LEDGER
    + _CHECK_ORDERS
    + _DECIDE_ORDERS
    + _PROPOSE_WRITEOFFS
    + _APPROVE_WRITEOFFS
    + _perms(["add", "change"], ["creditcontrol"], app="receivables")
    + _IMPORT_LEDGER,
    FINANCE: _VIEW_LEDGER + _CHECK_ORDERS + _POST_LEDGER + _IMPORT_LEDGER + _PROPOSE_WRITEOFFS,
    MARKETING_DIRECTOR: _VIEW_LEDGER + _DECIDE_ORDERS,
    VP: _VIEW_LEDGER + _DECIDE_ORDERS + _APPROVE_WRITEOFFS,
    GENERAL_MANAGER: _VIEW_LEDGER + _DECIDE_ORDERS + _APPROVE_WRITEOFFS,
    ARCHIVIST: _VIEW_LEDGER,
    AUDITOR: _VIEW_LEDGER,
    ADMINISTRATOR: _VIEW_LEDGER + _perms(["add", "change"], ["creditcontrol"], app="receivables"),
}
# Collections 商账追讨 (R-30): sales reps and their managers work their own customers'
# cases (visibility decides whose), credit staff run dunning and assign cases, the credit
# manager also edits the policy and the letter templates; the others read.
_VIEW_COLLECTIONS = _perms(
    ["view"],
    [
        "collectioncase",
        "collectionaction",
        "paymentpromise",
        "dunningletter",
        "dunningrun",
        "dunningpolicy",
        "dunninglevel",
        "dunningtemplate",
    ],
    app="receivables",
)
_WORK_CASES = _perms(["add", "change"], ["collectioncase"], app="receivables") + _perms(
    ["add"], ["collectionaction", "paymentpromise", "dunningletter"], app="receivables"
)
_RUN_DUNNING = ["receivables.run_dunning", "receivables.assign_collectioncase"]
_MANAGE_DUNNING = _perms(
    ["add", "change", "delete"], ["dunningtemplate", "dunninglevel"], app="receivables"
) + ["receivables.change_dunningpolicy"]
_COLLECTIONS = {
    SALES_REP: _VIEW_COLLECTIONS + _WORK_CASES,
    DEPT_MANAGER: _VIEW_COLLECTIONS + _WORK_CASES,
    CREDIT_STAFF: _VIEW_COLLECTIONS + _WORK_CASES + _RUN_DUNNING,
    CREDIT_MANAGER: _VIEW_COLLECTIONS + _WORK_CASES + _RUN_DUNNING + _MANAGE_DUNNING,
    FINANCE: _VIEW_COLLECTIONS,
    MARKETING_DIRECTOR: _VIEW_COLLECTIONS,
    VP: _VIEW_COLLECTIONS,
    GENERAL_MANAGER: _VIEW_COLLECTIONS,
    ARCHIVIST: _VIEW_COLLECTIONS,
    AUDITOR: _VIEW_COLLECTIONS,
    ADMINISTRATOR: _VIEW_COLLECTIONS,
}
# Access policy: the archivist lends files; the administrator and the
# marketing director set who reads by work. Anyone may submit a read request.
_LEND_FILES = ["access.lend_files"] + _perms(["view"], ["readrequest", "lending"], app="access")
_MANAGE_ACCESS = ["access.manage_access_settings"] + _perms(
    ["view", "change"], ["accesssettings"], app="access"
)
_ACCESS = {
    ARCHIVIST: _LEND_FILES,
    ADMINISTRATOR: _MANAGE_ACCESS,
    MARKETING_DIRECTOR: _MANAGE_ACCESS,
}
for _role, _extra in _ACCESS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] + _extra
for _role, _extra in _RECEIVABLES.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] + _extra
for _role, _extra in _COLLECTIONS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] + _extra


def sync_roles() -> None:
    """Make every role's group hold exactly its permissions."""
    from django.contrib.auth.models import Group, Permission

    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for code, perm_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=code)
        group.permissions.set([all_perms[name] for name in perm_names if name in all_perms])


def sync_roles_after_migrate(sender, **kwargs):
    """Runs once per migrate, after the last app: only then do all permissions exist."""
    from django.apps import apps

    if sender.label == list(apps.get_app_configs())[-1].label:
        sync_roles()
