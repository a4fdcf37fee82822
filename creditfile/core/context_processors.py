from creditfile.core.roles import ROLE_LABELS


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from creditfile.access.services.violations import MANAGING_ROLES

    return {
        "user_role_labels": [str(ROLE_LABELS[c]) for c in user.role_codes if c in ROLE_LABELS],
        # Managers read their people's weekly violation summaries 违规汇总.
        "show_violation_summaries": user.has_role(*MANAGING_ROLES),
    }
