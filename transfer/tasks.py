"""Celery tasks of version control: thin wrappers around transfer/vc/."""

from celery import shared_task

__all__ = ["run_version_request", "auto_commit"]


@shared_task(name="transfer.tasks.run_version_request", ignore_result=True)
def run_version_request(request_id: str) -> None:
    from transfer.vc import requests

    requests.run(request_id)


@shared_task(name="transfer.tasks.auto_commit", ignore_result=True)
def auto_commit(tenant_id: str, entity_type: str, entity_id: str) -> None:
    from transfer.vc import autocommit

    autocommit.commit(tenant_id, entity_type, entity_id)
