"""The JSON of the ai app's rows, as tb-pe-client reads them (AiModel) and as our chats answer."""

from ai.configs import masked
from tbproject.api.ids import entity_id

__all__ = ["model_json", "chat_json", "message_json"]


def model_json(row) -> dict:
    """ThingsBoard's AiModel, its credentials masked."""
    return {"id": entity_id("AI_MODEL", row.pk), "createdTime": row.created_time,
            "tenantId": entity_id("TENANT", row.tenant_id), "version": row.version, "name": row.name,
            "configuration": masked(row.configuration)}


def chat_json(row) -> dict:
    return {"id": str(row.pk), "title": row.title, "createdTime": row.created_time, "updatedTime": row.updated_time,
            "aiModelId": entity_id("AI_MODEL", row.model_id) if row.model_id else None,
            "systemPrompt": row.system_prompt or None}


def message_json(row) -> dict:
    return {"id": str(row.pk), "chatId": str(row.chat_id), "role": row.role, "content": row.content,
            "createdTime": row.created_time}
