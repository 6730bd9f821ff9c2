"""Package endpoints."""

urlpatterns = []
