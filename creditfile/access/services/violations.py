"""Weekly violation summaries 违规汇总 (R-42): denied attempts of the past week, per person,
for the person's manager; stored for the manager's page and e-mailed when e-mail is set up.

`creditfile daily` calls `summarise_week` on Mondays for the week that just ended; it is
idempotent (one summary per manager per week), so a rerun neither duplicates nor re-sends.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from creditfile.access.models import AuditEvent, ViolationSummary
from creditfile.core import roles
from creditfile.core.models import User

log = logging.getLogger(__name__)

# Who manages the people of a department, nearest first: the department's own manager
# (sales) or credit manager, then up the tree to the directors and the GM.
MANAGING_ROLES = (
    roles.DEPT_MANAGER,
    roles.CREDIT_MANAGER,
    roles.MARKETING_DIRECTOR,
    roles.VP,
    roles.GENERAL_MANAGER,
)


@dataclass
class WeekResult:
    week_start: date
    created: int
    skipped: int  # already summarised before (a rerun)
    emailed: int


def previous_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the week before the one `today` is in."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def managers_of(user: User) -> list[User]:
    """The nearest managers of `user`: the first department, from the user's own upwards,
    that has active members with a managing role other than the user."""
    department = user.department
    while department is not None:
        found = list(
            User.objects.filter(
                department=department, is_active=True, groups__name__in=MANAGING_ROLES
            )
            .exclude(pk=user.pk)
            .distinct()
            .order_by("username")
        )
        if found:
            return found
        department = department.parent
    return []


def denied_events(start: date, end: date):
    """Denied attempts from `start` to `end` (Shanghai days, both included) by known users."""
    since = timezone.make_aware(datetime.combine(start, time.min))
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return (
        AuditEvent.objects.filter(time__gte=since, time__lt=until, user_id__isnull=False)
        .filter(Q(action=AuditEvent.Action.DENIED) | Q(outcome=AuditEvent.Outcome.DENIED))
        .order_by("id")
    )


def _lines_per_person(events) -> dict[int, dict]:
    from creditfile.customers.models import Customer

    people: dict[int, dict] = {}
    customers: dict[int, set] = defaultdict(set)
    for e in events.iterator(chunk_size=2000):
        line = people.setdefault(
            e.user_id,
            {"username": e.username, "count": 0, "first": e.time, "last": e.time, "kinds": {}},
        )
        line["count"] += 1
        line["last"] = e.time
        what = e.object_type or e.action
        line["kinds"][what] = line["kinds"].get(what, 0) + 1
        if e.customer_id is not None:
            customers[e.user_id].add(e.customer_id)
    names = dict(
        Customer.objects.filter(pk__in={c for ids in customers.values() for c in ids}).values_list(
            "pk", "name"
        )
    )
    users = {u.pk: u for u in User.objects.filter(pk__in=people)}
    for user_id, line in people.items():
        user = users.get(user_id)
        line["name"] = str(user) if user else line["username"]
        line["customers"] = "、".join(
            sorted(names.get(c, f"#{c}") for c in customers.get(user_id, ()))
        )
        line["first"] = timezone.localtime(line["first"]).isoformat(timespec="minutes")
        line["last"] = timezone.localtime(line["last"]).isoformat(timespec="minutes")
        kinds = sorted(line.pop("kinds").items(), key=lambda kv: (-kv[1], kv[0]))
        line["objects"] = ", ".join(f"{kind} ×{n}" for kind, n in kinds[:5])
    return people


def email_configured() -> bool:
    return bool(getattr(settings, "EMAIL_HOST", ""))


def summarise_week(today: date, *, email: bool = True) -> WeekResult:
    """Write last week's summaries (one per manager with people who were refused)."""
    start, end = previous_week(today)
    people = _lines_per_person(denied_events(start, end))
    per_manager: dict[int, list[dict]] = defaultdict(list)
    managers: dict[int, User] = {}
    for user in User.objects.filter(pk__in=people).select_related("department"):
        for manager in managers_of(user):
            managers[manager.pk] = manager
            per_manager[manager.pk].append(people[user.pk] | {"user_id": user.pk})
    created = skipped = emailed = 0
    for manager_id, lines in sorted(per_manager.items()):
        lines.sort(key=lambda line: (-line["count"], line["username"]))
        with transaction.atomic():
            summary, new = ViolationSummary.objects.get_or_create(
                manager=managers[manager_id],
                week_start=start,
                defaults={
                    "week_end": end,
                    "lines": lines,
                    "event_count": sum(line["count"] for line in lines),
                },
            )
        if not new:
            skipped += 1
            continue
        created += 1
        if email and email_configured() and send_summary(summary):
            emailed += 1
    return WeekResult(start, created, skipped, emailed)


def summary_text(summary: ViolationSummary) -> str:
    lines = [
        _("%(start)s 至 %(end)s 越权尝试汇总（共 %(n)s 次）：")
        % {"start": summary.week_start, "end": summary.week_end, "n": summary.event_count},
        "",
    ]
    for line in summary.lines:
        lines.append(
            _("%(name)s（%(username)s）：%(count)s 次，%(first)s 至 %(last)s")
            % {k: line.get(k, "") for k in ("name", "username", "count", "first", "last")}
        )
        if line.get("customers"):
            lines.append("  " + _("涉及客户：%(customers)s") % {"customers": line["customers"]})
        if line.get("objects"):
            lines.append("  " + _("对象：%(objects)s") % {"objects": line["objects"]})
    return "\n".join(lines)


def send_summary(summary: ViolationSummary) -> bool:
    """E-mail the summary to its manager; the outcome is kept on the summary."""
    manager = summary.manager
    if not manager.email:
        ViolationSummary.objects.filter(pk=summary.pk).update(
            email_error=_("负责人没有电子邮件地址。")
        )
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("违规汇总 %(start)s 至 %(end)s") % {
            "start": summary.week_start,
            "end": summary.week_end,
        }
        body = summary_text(summary)
    try:
        send_mail(subject, body, None, [manager.email])
    except Exception as error:  # SMTP and socket errors alike: keep the summary, say why
        log.warning("violation summary %s not e-mailed: %s", summary.pk, error)
        ViolationSummary.objects.filter(pk=summary.pk).update(email_error=str(error)[:300])
        return False
    ViolationSummary.objects.filter(pk=summary.pk).update(emailed_at=timezone.now(), email_error="")
    return True
