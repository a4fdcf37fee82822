"""Session engine (SESSION_ENGINE): Django's database sessions, kept in UserSession with
the signed-in user's id beside the data.

Why: "all sessions of a deactivated user end at once" needs the sessions of one user,
and Django's own table holds the user only inside the encoded data.
"""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        from creditfile.core.models.sessions import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session


def end_sessions_of(user) -> int:
    """Sign the user out everywhere; returns how many sessions ended."""
    from creditfile.core.models.sessions import UserSession

    deleted, _by_model = UserSession.objects.filter(user_id=user.pk).delete()
    return deleted
