"""The few kinds of trouble touchlog tells apart.

Configuration and server errors stop a pass (exit status 1, one line, nothing touched); a message
error belongs to one message, which fails with `parse_error` while the pass goes on.
"""


class TouchlogError(Exception):
    """Base of every error touchlog reports to a user in one line."""


class ConfigError(TouchlogError):
    """settings.toml or an imported file is wrong; the text names the key or the line."""


class MailboxError(TouchlogError):
    """The IMAP server cannot be reached, refused the login, or failed a command."""


class DatabaseError(TouchlogError):
    """The database cannot be opened or written."""


class MessageError(TouchlogError):
    """One message cannot be understood; its raw bytes stay where they are."""


class NoticeError(TouchlogError):
    """A failure notice could not be sent; it stays pending and is retried on the next pass."""


class TokenError(TouchlogError):
    """An OAuth2 access token could not be had from its source (command, variable, file or
    provider); the text names the settings key and, for a provider, its answer."""


class SignInRefused(TouchlogError):
    """A sign-in on the web was refused; the text is fit to show the person signing in (never a
    token, a code or a secret in it)."""


class LockLost(DatabaseError):
    """The pass no longer holds its mailbox's lock: it stops before moving anything more."""


class SalesforceError(TouchlogError):
    """Salesforce cannot be reached, refused the session, or refused a whole request; the run
    stops with its watermarks where the last commit left them."""


class Refused(TouchlogError):
    """A team member may not do this (SPEC 13: only the creator or an admin …); the text is
    the command line's words, and the web answers 403 with them."""


class NotFound(TouchlogError):
    """An account, touchpoint, task or failed message that does not exist (or an id that names
    nothing, core.ids); the command line says it in one line, the web answers 404."""


class FieldError(TouchlogError):
    """A value given for one field of a change (an option on the command line, a form field on
    the web) that cannot be used: the command line says it as a usage error of `--FIELD`
    (exit 2), the web answers 400 naming the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem
