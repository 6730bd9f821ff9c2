"""Reporting's settings read here: Django settings when set there, else the environment (as ai/conf.py).

- REPORTS_JOBS_TTL_DAYS: days a finished report job (COMPLETED, FAILED, CANCELLED) stays in the job API before
  the periodic cleanup (``reports.tasks.remove_expired_jobs``) deletes it (30; 0 keeps them). The reports the
  jobs made stay.
"""

from django.conf import settings

from tbproject.env import env_int

__all__ = ["jobs_ttl_days"]


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default() if value is None else value


def jobs_ttl_days() -> int:
    return int(_get("REPORTS_JOBS_TTL_DAYS", lambda: env_int("REPORTS_JOBS_TTL_DAYS", 30, minimum=0)))
