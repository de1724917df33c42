"""The single-use links Fieldline emails: an invitation to a new account (valid 72 hours) and a
password reset (valid 30 minutes). Only a SHA-256 of each link's token is stored; a link works
once, and a newer link of the same kind replaces an older one."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select, update

from app.models import AccountToken, User
from app.services import ValidationError, two_factor
from app.services.auth import end_all_login_sessions, hash_password, normalise_email, password_problem

VALID_FOR = {"invite": timedelta(hours=72), "reset": timedelta(minutes=30)}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unusable_password_hash() -> str:
    """An invited account's password until they choose one: the hash of a secret nobody keeps."""
    return hash_password(secrets.token_urlsafe(32))


def issue(session: Session, user: User, purpose: str, *, now: datetime) -> str:
    """A new link's token (earlier unused links of this kind for this account stop working)."""
    session.exec(update(AccountToken).where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
                                            AccountToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(id=_digest(token), user_id=user.id, purpose=purpose, created_at=now,
                             expires_at=now + VALID_FOR[purpose]))
    return token


def find(session: Session, token: str, *, now: datetime) -> tuple[AccountToken, User] | None:
    """The link and its account, while the link is unused, in date and the account active."""
    if not token or len(token) > 100:
        return None
    found = session.exec(select(AccountToken, User).join(User, User.id == AccountToken.user_id)
                         .where(AccountToken.id == _digest(token))).first()
    if found is None:
        return None
    link, user = found
    if link.used_at is not None or link.expires_at <= now or not user.active:
        return None
    return link, user


def user_for_reset(session: Session, email: str) -> User | None:
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    return user if user is not None and user.active else None


def choose_password(session: Session, token: str, password: str, *, now: datetime) -> tuple[User, str]:
    """Spend the link and set the account's password; returns the account and the link's purpose.
    A reset ends every signed-in session and forgets remembered phones (whoever knew the old
    password may have used it). Raises ValidationError for a bad password or a spent link."""
    found = find(session, token, now=now)
    if found is None:
        raise ValidationError({"": "This link has expired or has been used already. Ask for a new one."})
    link, user = found
    problem = password_problem(password, about=(user.email, user.name))
    if problem:
        raise ValidationError({"password": problem})
    spent = session.exec(update(AccountToken).where(AccountToken.id == link.id, AccountToken.used_at.is_(None))
                         .values(used_at=now)).rowcount
    if not spent:  # another request used it a moment ago
        raise ValidationError({"": "This link has expired or has been used already. Ask for a new one."})
    user.password_hash = hash_password(password)
    if link.purpose == "reset":
        end_all_login_sessions(session, user.id, now=now, reason="password")
        two_factor.forget_devices(session, user.id, now=now)
    return user, link.purpose


def message(purpose: str, *, name: str, link: str, team_words: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the email (no personal data beyond the recipient's name)."""
    from markupsafe import escape

    if purpose == "invite":
        subject = "Your Fieldline account"
        text = (f"Hello {name},\n\nYou have been given a Fieldline account{team_words}. Open this link to choose "
                f"your password and set up your sign-in:\n\n{link}\n\nThe link works once, for 72 hours.\n")
    else:
        subject = "Reset your Fieldline password"
        text = (f"Hello {name},\n\nSomeone asked to reset your Fieldline password. If it was you, open this link "
                f"to choose a new one:\n\n{link}\n\nThe link works once, for 30 minutes. Choosing a new password "
                "signs you out on every device. If it wasn't you, you can ignore this email.\n")
    html = "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip())
    html = html.replace(str(escape(link)), f'<a href="{escape(link)}">{escape(link)}</a>')
    return subject, text, html


def notice(kind: str, *, name: str) -> tuple[str, str, str]:
    """An email telling someone what an admin changed on their account."""
    from markupsafe import escape

    if kind == "second-factor-reset":
        subject = "Your Fieldline sign-in was reset"
        text = (f"Hello {name},\n\nAn administrator has removed the second factor (authenticator app, passkeys "
                "and recovery codes) from your Fieldline account and signed you out everywhere. You will set up a "
                "new one the next time you sign in.\n\nIf you did not ask for this, tell your manager or your "
                "team's admin straight away.\n")
    else:  # "sessions-ended"
        subject = "You have been signed out of Fieldline"
        text = (f"Hello {name},\n\nAn administrator has signed your Fieldline account out on every device. "
                "Sign in again to carry on; anything a phone had not sent yet was deleted from it.\n\nIf you "
                "don't know why, ask your manager or your team's admin.\n")
    return subject, text, "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip())
