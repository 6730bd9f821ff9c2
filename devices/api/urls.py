from devices.api import views
from tbproject.api.resources import entity_urls

__all__ = ["urlpatterns"]

urlpatterns = [
    *entity_urls(views.DeviceResource, "device", "tenant/devices", "device"),
]
