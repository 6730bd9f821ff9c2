"""AI models (ThingsBoard 4.2+): a tenant's configured LLM providers, a test chat, chats, and the AI request node."""
