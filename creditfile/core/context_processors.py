from creditfile.core.roles import ROLE_LABELS


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_role_labels": [str(ROLE_LABELS[c]) for c in user.role_codes if c in ROLE_LABELS]}
