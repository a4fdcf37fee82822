"""The kinds of endpoint the permission matrix knows, each with its expected answer.

An entry of the matrix's table is one of these with its details (the permission it needs,
what its ids point at). `expect(subject, level)` is the answer the endpoint must give;
`level` is None for endpoints that are not about one customer file.

Answers (classes of HTTP response):
  ALLOW      the work is done or the form is shown: 2xx/3xx (for a write with an empty or
             dummy body also 400/409/422: access was granted, the input or state refused)
  STUB       403: the one-line stub of a customer the user may not read (no file content)
  HIDDEN     404: as if the object did not exist
  FORBIDDEN  403: the role may not do this
  LOGIN      not signed in: the login page (web) or 401 (API)
  REACH      the object is visible and the step is the workflow's to allow or refuse
             (ALLOW or FORBIDDEN both pass: who may take which step in which state is
             tested with the workflow, credit/tests/test_workflow.py and friends)
"""

from dataclasses import dataclass, field

from tests.matrix_fixture import EDITORS, READERS, has_perm

ALLOW = "allow"
STUB = "stub"
HIDDEN = "hidden"
FORBIDDEN = "forbidden"
LOGIN = "login"
REACH = "reach"


@dataclass(frozen=True)
class Ref:
    """A URL argument or body value that is the id of a fixture object (`customer`, `contact` …)."""

    name: str


def _perms_ok(subject: str, perms: tuple, any_of: bool) -> bool:
    if not perms:
        return True
    results = [has_perm(subject, p) for p in perms]
    return any(results) if any_of else all(results)


def _tuple(perm) -> tuple:
    if perm is None:
        return ()
    return (perm,) if isinstance(perm, str) else tuple(perm)


@dataclass(frozen=True)
class Rule:
    """Common details: HTTP method, URL arguments and body (values may be Ref(...))."""

    method: str = "get"
    args: dict = field(default_factory=dict)
    data: dict | None = None
    ok: str = ALLOW  # the answer to someone allowed (e.g. HIDDEN: nothing there in this session)
    per_level = False

    def expect(self, subject: str, level: str | None) -> str:
        raise NotImplementedError


def _kw(method, args, data, ok):
    return {"method": method, "args": args or {}, "data": data, "ok": ok}


@dataclass(frozen=True)
class Public(Rule):
    def expect(self, subject, level):
        return self.ok


@dataclass(frozen=True)
class Signed(Rule):
    """Every signed-in user's own work or a list filtered to what they may see."""

    def expect(self, subject, level):
        return LOGIN if subject == "anonymous" else self.ok


@dataclass(frozen=True)
class Screen(Rule):
    """A global screen or action gated by permissions of the role (roles.py)."""

    perms: tuple = ()
    any_of: bool = False

    def expect(self, subject, level):
        if subject == "anonymous":
            return LOGIN
        return self.ok if _perms_ok(subject, self.perms, self.any_of) else FORBIDDEN


@dataclass(frozen=True)
class Route(Rule):
    """A visit route of alice (R-16): its own rule, not customer levels (services/routes.py)."""

    edit: bool = False
    perms: tuple = ()

    # The route rule: the rep, their department's managers, whoever reads every file;
    # editing needs the route permission and the edit side of the same rule (the rep,
    # their managers, whoever edits every file).
    READERS = {
        "alice", "mary", "carl", "cathy", "fiona", "dora", "victor", "george", "audrey", "root",
    }  # fmt: skip
    EDITORS = {"alice", "mary", "cathy", "dora", "root"}

    def expect(self, subject, level):
        if subject == "anonymous":
            return LOGIN
        if subject not in self.READERS:
            return HIDDEN
        if self.edit and subject not in self.EDITORS:
            return FORBIDDEN
        return self.ok if _perms_ok(subject, self.perms, False) else FORBIDDEN


@dataclass(frozen=True)
class Customer(Rule):
    """About one customer file (its id in the URL or the body), or an object of it.

    deny: the answer to someone who may not read the file (STUB on web pages that open
    the customer, HIDDEN for objects found through the visible-customer filter and in
    the API). edit: needs the edit right on the file. perms: role permissions needed;
    perm_first: the view checks them before the file (a 403 then even for unreadable
    files, which reveals nothing). stub: the page is the stub itself (content checked).
    workflow: a step whose further rules belong to the workflow (REACH).
    """

    perms: tuple = ()
    edit: bool = False
    deny: str = STUB
    perm_first: bool = False
    stub: bool = False
    workflow: bool = False
    any_of: bool = False
    per_level = True

    def expect(self, subject, level):
        if subject == "anonymous":
            return LOGIN
        perms_ok = _perms_ok(subject, self.perms, self.any_of)
        if self.perm_first and not perms_ok:
            return FORBIDDEN
        if subject not in READERS[level]:
            return self.deny
        if self.edit and subject not in EDITORS[level]:
            return FORBIDDEN
        if not perms_ok:
            return FORBIDDEN
        return REACH if self.workflow else self.ok


@dataclass(frozen=True)
class Among(Rule):
    """An object of one level's file seen by a listed set of people (`who[level]`), else 404."""

    who: dict = field(default_factory=dict)
    perms: tuple = ()
    perm_first: bool = False
    workflow: bool = False
    per_level = True

    def expect(self, subject, level):
        if subject == "anonymous":
            return LOGIN
        perms_ok = _perms_ok(subject, self.perms, False)
        if self.perm_first and not perms_ok:
            return FORBIDDEN
        if subject not in self.who[level]:
            return HIDDEN
        if not perms_ok:
            return FORBIDDEN
        return REACH if self.workflow else self.ok


# -- short constructors: one table entry per line -------------------------------------------


def public(method="get", args=None, data=None, ok=ALLOW):
    return Public(**_kw(method, args, data, ok))


def signed(method="get", args=None, data=None, ok=ALLOW):
    return Signed(**_kw(method, args, data, ok))


def screen(perm=None, method="get", args=None, data=None, ok=ALLOW, any_of=False):
    return Screen(perms=_tuple(perm), any_of=any_of, **_kw(method, args, data, ok))


def route(edit=False, perm=None, method="get", args=None, data=None, ok=ALLOW):
    args = {"pk": Ref("route"), **(args or {})}
    return Route(edit=edit, perms=_tuple(perm), **_kw(method, args, data, ok))


def customer(
    perm=None,
    *,
    edit=False,
    deny=STUB,
    perm_first=False,
    stub=False,
    workflow=False,
    any_of=False,
    method="get",
    args=None,
    data=None,
    ok=ALLOW,
):
    return Customer(
        perms=_tuple(perm),
        any_of=any_of,
        edit=edit,
        deny=deny,
        perm_first=perm_first,
        stub=stub,
        workflow=workflow,
        **_kw(method, args, data, ok),
    )


def among(who, perm=None, *, perm_first=False, workflow=False, method="get", args=None, data=None):
    return Among(
        who=who,
        perms=_tuple(perm),
        perm_first=perm_first,
        workflow=workflow,
        **_kw(method, args, data, ALLOW),
    )


def api(perm=None, **kwargs):
    """An API operation about one customer: an unreadable customer is a 404 (policy spec)."""
    kwargs.setdefault("deny", HIDDEN)
    return customer(perm, **kwargs)


def step(perm=None, **kwargs):
    """A workflow step on a customer's object (REACH for whoever may see it)."""
    return customer(perm, workflow=True, **kwargs)
