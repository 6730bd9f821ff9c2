"""ThingsBoard's two-factor authentication (3.4+): the platform settings (``platform.py``, admin settings
``twoFaSettings``), each user's provider configs (``account.py``), and the login's second step
(``verification.py``). README "Two-factor authentication"."""

__all__ = ["TwoFaError"]


class TwoFaError(Exception):
    """A refused 2FA request: the message, the HTTP status (400 unless said), and for a 429 the seconds to wait."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after
