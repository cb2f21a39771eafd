"""Who is asking: the browser session (or API pseudo-session), and the user id when logged in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    session_key: str | None
    user_id: int | None = None

    @property
    def known(self) -> bool:
        return bool(self.session_key or self.user_id)

    def owns(self, obj) -> bool:
        """Whether a row with owner_session / owner_user_id belongs to this owner."""
        if not self.known:
            return False
        if self.user_id is not None and obj.owner_user_id == self.user_id:
            return True
        return bool(self.session_key) and obj.owner_session == self.session_key


def owner_from_request(request) -> Owner:
    # A session must exist before work can belong to it (the page view makes sure of that).
    if not request.session.session_key:
        request.session.save()
    user_id = request.user.pk if getattr(request, "user", None) and request.user.is_authenticated else None
    return Owner(session_key=request.session.session_key, user_id=user_id)


def client_address(request) -> str:
    # Behind a reverse proxy, run daphne with --proxy-headers (X-Forwarded-For is not trusted otherwise).
    return request.META.get("REMOTE_ADDR") or "unknown"


def scope_address(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def owner_from_scope(scope) -> Owner:
    session = scope.get("session")
    user = scope.get("user")
    user_id = user.pk if user is not None and user.is_authenticated else None
    return Owner(session_key=session.session_key if session is not None else None, user_id=user_id)


def get_owned(model, item_id, owner: Owner, not_found: type[Exception], bad_id: str):
    """The row of ``model`` if it exists and belongs to ``owner``; ``not_found`` otherwise (the same answer for
    both, so ids cannot be probed)."""
    import uuid

    try:
        key = item_id if isinstance(item_id, uuid.UUID) else uuid.UUID(str(item_id))
    except (ValueError, TypeError, AttributeError):
        raise not_found(bad_id) from None
    row = model.objects.filter(pk=key).first() if owner.known else None
    if row is None or not owner.owns(row):
        raise not_found()
    return row
