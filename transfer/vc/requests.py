"""The asynchronous version requests: ``start`` stores one and queues its task (run in process in
the embedded mode), ``run`` does the work once and keeps the result, ``status`` answers it to its
tenant only. A repository that cannot be reached, or refuses, fails the request with its message;
anything else that goes wrong (logged) fails it with a fixed one: a request never stays pending."""

import logging

from rest_framework.exceptions import APIException, NotFound

from transfer.models import VersionRequest
from transfer.vc import loading, versions
from transfer.vc.calls import CallError
from transfer.vc.git import GitError

__all__ = ["start", "run", "status"]

log = logging.getLogger(__name__)
UNEXPECTED = "The request failed on an unexpected error (logged on the server)"

PENDING = {"CREATE": {"version": None, "added": 0, "modified": 0, "removed": 0, "error": None, "done": False},
           "LOAD": {"result": [], "error": None, "done": False}}


def start(user, kind: str, body: dict) -> VersionRequest:
    from transfer.tasks import run_version_request

    row = VersionRequest.objects.create(tenant_id=user.tenant_id, user=user, kind=kind, body=body,
                                        result=PENDING[kind])
    run_version_request.delay(str(row.pk))
    return row


def _failed(kind: str, message: str) -> dict:
    if kind == "CREATE":
        return {**PENDING["CREATE"], "error": message, "done": True}
    return {"result": [], "error": {"type": "RUNTIME", "source": None, "target": None, "message": message},
            "done": True}


def run(request_id: str) -> None:
    row = VersionRequest.objects.filter(pk=request_id, done=False).select_related("user").first()
    if row is None or row.user is None:
        return
    try:
        if row.kind == "CREATE":
            result = versions.create_version(row.user, row.body)
        else:
            result = loading.load_version(row.user, row.body)
    except GitError as e:
        result = _failed(row.kind, str(e))
    except CallError as e:
        result = _failed(row.kind, e.message)
    except APIException as e:
        result = _failed(row.kind, str(e.detail))
    except Exception:  # a malformed repository or a bug: the request ends, the cause is in the log
        log.exception("version request %s failed", row.pk)
        result = _failed(row.kind, UNEXPECTED)
    VersionRequest.objects.filter(pk=row.pk).update(result=result, done=True)


def status(tenant_id, kind: str, request_id) -> dict:
    row = VersionRequest.objects.filter(pk=request_id, tenant_id=tenant_id, kind=kind).first()
    if row is None:
        raise NotFound(f"Request {request_id} not found")
    return row.result
