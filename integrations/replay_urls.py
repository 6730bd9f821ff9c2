"""URLs of the dead-letter endpoints; included from tbproject/urls.py."""

from django.urls import path

from integrations.replay_views import DeadLettersView, ReplayView

__all__ = ["urlpatterns"]

urlpatterns = [
    path("integration/<str:pk>/replay", ReplayView.as_view(), name="integration-replay"),
    path("integration/<str:pk>/deadLetters", DeadLettersView.as_view(), name="integration-dead-letters"),
]
