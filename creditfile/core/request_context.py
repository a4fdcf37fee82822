"""What the current web request is, for code that is not handed the request.

RequestContextMiddleware sets it for the whole request; the audit trail (`access.services.
audit.record`) reads the client address and request id from here when it is called deep
inside a service. Outside a request (commands, background jobs) it is empty.
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestInfo:
    address: str = ""
    request_id: str = ""
    # Customers whose file this request has already logged as read (one event per request).
    viewed: set = field(default_factory=set)


_info: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar(
    "creditfile_request_info",
    default=RequestInfo(),  # noqa: B039 (frozen)
)


def current_request_info() -> RequestInfo:
    return _info.get()


def client_address(request) -> str:
    """The address the request came from, as the server saw it (REMOTE_ADDR)."""
    if request is None:
        return ""
    return (request.META.get("REMOTE_ADDR") or "")[:45]


@contextmanager
def in_request(address: str = "", request_id: str = ""):
    token = _info.set(RequestInfo(address=address[:45], request_id=request_id[:36]))
    try:
        yield
    finally:
        _info.reset(token)
