"""A tenant's repository settings (ThingsBoard's RepositorySettings, per tenant) and auto-commit
settings (entity type -> AutoVersionCreateConfig). Secrets are write-only: a save without them
keeps the stored ones, an answer never holds them."""

from rest_framework.exceptions import NotFound, ValidationError

from transfer.models import AutoCommitSettings, RepositorySettings
from transfer.vc import autocommit
from transfer.vc.git import Credentials, GitError, Remote, remove_cache, validate
from transfer.vc.layout import TYPES

__all__ = ["settings_json", "parse_settings", "save_settings", "delete_settings", "check_access", "remote_for",
           "get_settings", "auto_commit_json", "save_auto_commit", "NOT_CONFIGURED"]

NOT_CONFIGURED = "Repository settings are not configured"
SECRETS = ("password", "private_key", "private_key_password")
_FIELDS = {"repositoryUri": "repository_uri", "authMethod": "auth_method", "username": "username",
           "password": "password", "privateKeyFileName": "private_key_file_name", "privateKey": "private_key",
           "privateKeyPassword": "private_key_password", "defaultBranch": "default_branch", "readOnly": "read_only",
           "showMergeCommits": "show_merge_commits", "localOnly": "local_only"}
_BOOLS = ("readOnly", "showMergeCommits", "localOnly")
_AUTO_KEYS = ("saveRelations", "saveAttributes", "saveCredentials", "saveCalculatedFields", "savePermissions",
              "saveGroupEntities")


def get_settings(tenant_id) -> RepositorySettings:
    found = RepositorySettings.objects.filter(tenant_id=tenant_id).first()
    if found is None:
        raise NotFound(NOT_CONFIGURED)
    return found


def settings_json(row: RepositorySettings) -> dict:
    out = {key: getattr(row, field) for key, field in _FIELDS.items() if field not in SECRETS}
    out["privateKeyFileName"] = out["privateKeyFileName"] or None
    return out


def parse_settings(tenant_id, body) -> RepositorySettings:
    """An unsaved row from a RepositorySettings body, the stored secrets kept where it sends none."""
    if not isinstance(body, dict):
        raise ValidationError("The body must be a RepositorySettings object")
    row = RepositorySettings.objects.filter(tenant_id=tenant_id).first() or RepositorySettings(tenant_id=tenant_id)
    stored = {f: getattr(row, f) for f in SECRETS}
    for key, field in _FIELDS.items():
        value = body.get(key)
        if key in _BOOLS:
            if value is not None and not isinstance(value, bool):
                raise ValidationError(f"{key} must be true or false")
            setattr(row, field, bool(value))
        elif value is not None and not isinstance(value, str):
            raise ValidationError(f"{key} must be a string")
        elif field in SECRETS:
            setattr(row, field, value if value else stored[field])
        else:
            setattr(row, field, (value or "").strip() if field != "private_key_file_name" else value or "")
    if not row.repository_uri:
        raise ValidationError("Repository URI should be specified!")
    row.auth_method = row.auth_method or "USERNAME_PASSWORD"
    if row.auth_method not in dict(RepositorySettings.AUTH_METHODS):
        raise ValidationError("authMethod must be USERNAME_PASSWORD or PRIVATE_KEY")
    if row.auth_method == "PRIVATE_KEY" and not row.private_key:
        raise ValidationError("Private key should be specified!")
    row.default_branch = row.default_branch or "main"
    if len(row.repository_uri) > 1024 or len(row.default_branch) > 255:
        raise ValidationError("repositoryUri or defaultBranch is too long")
    try:
        validate(row.repository_uri, _credentials(row))
    except GitError as e:
        raise ValidationError(str(e)) from None
    return row


def _credentials(row: RepositorySettings) -> Credentials:
    return Credentials(row.auth_method, row.username, row.password, row.private_key, row.private_key_password)


def remote_for(row: RepositorySettings) -> Remote:
    return Remote(row.tenant_id, row.repository_uri, _credentials(row), row.default_branch)


def check_access(row: RepositorySettings) -> None:
    try:
        with remote_for(row) as remote:
            remote.check_access()
    except GitError as e:
        raise ValidationError(f"Unable to access repository: {e}") from None


def save_settings(tenant_id, body) -> RepositorySettings:
    """ThingsBoard checks the repository before it keeps the settings: so does this."""
    row = parse_settings(tenant_id, body)
    before = RepositorySettings.objects.filter(tenant_id=tenant_id).values_list("repository_uri", flat=True).first()
    check_access(row)
    row.save()
    if before is not None and before != row.repository_uri:
        remove_cache(tenant_id)  # objects of the old repository must not answer as versions of the new one
    autocommit.forget(tenant_id)
    return row


def delete_settings(tenant_id) -> None:
    get_settings(tenant_id).delete()
    remove_cache(tenant_id)
    autocommit.forget(tenant_id)


def auto_commit_json(tenant_id) -> dict:
    row = AutoCommitSettings.objects.filter(tenant_id=tenant_id).first()
    return row.config if row else {}


def save_auto_commit(tenant_id, body) -> dict:
    if not isinstance(body, dict):
        raise ValidationError("The body must be an object of entity type -> AutoVersionCreateConfig")
    config = {}
    for entity_type, item in body.items():
        if entity_type not in TYPES:
            raise ValidationError(f"Entity type {str(entity_type)[:40]} is not versioned here; "
                                  f"use one of: {', '.join(TYPES)}")
        if not isinstance(item, dict):
            raise ValidationError(f"{entity_type}: must be an AutoVersionCreateConfig object")
        branch = item.get("branch")
        if branch is not None and not isinstance(branch, str):
            raise ValidationError(f"{entity_type}.branch must be a string")
        config[entity_type] = {**{k: bool(item.get(k)) for k in _AUTO_KEYS}, "branch": branch or None}
    AutoCommitSettings.objects.update_or_create(tenant_id=tenant_id, defaults={"config": config})
    autocommit.forget(tenant_id)
    return config
