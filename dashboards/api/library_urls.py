"""Routes of the widget library, resources and images (views in widgets.py, resources.py, images.py beside
this). Literal segments come before ids: ``resource/tenant`` before ``resource/{id}``, the typed downloads
(``resource/js/{id}/download``) before ``resource/{resourceType}/{scope}/{key}``, ``images/public/{key}``
before ``images/{scope}/{key}``."""

from django.urls import path

from dashboards.api import images as im
from dashboards.api import resources as rs
from dashboards.api import widgets as wg

__all__ = ["urlpatterns"]

urlpatterns = [
    path("widgetsBundle", wg.BundleSaveView.as_view(), name="widgets-bundle-save"),
    path("widgetsBundle/<str:pk>", wg.BundleView.as_view(), name="widgets-bundle-detail"),
    path("widgetsBundle/<str:pk>/widgetTypes", wg.BundleTypesView.as_view(), name="widgets-bundle-types"),
    path("widgetsBundle/<str:pk>/widgetTypeFqns", wg.BundleFqnsView.as_view(), name="widgets-bundle-fqns"),
    path("widgetsBundle/<str:pk>/widgetTypesInfos", wg.BundleInfosView.as_view(), name="widgets-bundle-infos"),
    path("widgetsBundle/<str:pk>/widgetTypesDetails", wg.BundleDetailsView.as_view(), name="widgets-bundle-details"),
    path("widgetsBundles", wg.BundlePageView.as_view(), name="widgets-bundle-page"),
    path("widgetsBundles/all", wg.BundleAllView.as_view(), name="widgets-bundle-all"),
    path("widgetsBundles/list", wg.BundleListView.as_view(), name="widgets-bundle-list"),
    path("widgetType", wg.TypeView.as_view(), name="widget-type"),
    path("widgetType/<str:pk>", wg.TypeDetailView.as_view(), name="widget-type-detail"),
    path("widgetTypeInfo/<str:pk>", wg.TypeInfoView.as_view(), name="widget-type-info"),
    path("widgetTypes", wg.TypePageView.as_view(), name="widget-type-page"),
    path("widgetTypesInfos", wg.TypeInfosView.as_view(), name="widget-type-infos"),
    path("widgetTypesDetails", wg.TypeDetailsView.as_view(), name="widget-type-details"),
    path("widgetTypeFqns", wg.TypeFqnsView.as_view(), name="widget-type-fqns"),
    path("resource", rs.ResourceView.as_view(), name="resource"),
    path("resource/upload", rs.UploadView.as_view(), name="resource-upload"),
    path("resource/tenant", rs.TenantPageView.as_view(), name="resource-tenant"),
    path("resource/list", rs.ListView.as_view(), name="resource-list"),
    path("resource/lwm2m", rs.Lwm2mView.as_view(), name="resource-lwm2m"),
    path("resource/lwm2m/page", rs.Lwm2mView.as_view(), name="resource-lwm2m-page"),
    path("resource/info/<str:pk>", rs.ResourceInfoView.as_view(), name="resource-info"),
    *[path(f"resource/{kind}/<str:pk>/download", rs.DownloadView.as_view(kind=kind), name=f"resource-{kind}-download")
      for kind in ("js", "jks", "pkcs12", "lwm2m")],
    path("resource/<str:pk>", rs.ResourceDetailView.as_view(), name="resource-detail"),
    path("resource/<str:pk>/download", rs.DownloadView.as_view(), name="resource-download"),
    path("resource/<str:pk>/data", rs.ResourceDataView.as_view(), name="resource-data"),
    path("resource/<str:pk>/info", rs.ResourceInfoUpdateView.as_view(), name="resource-info-update"),
    path("resource/<str:resource_type>/<str:resource_scope>/<str:key>", rs.KeyDownloadView.as_view(),
         name="resource-by-key"),
    path("resource/<str:resource_type>/<str:resource_scope>/<str:key>/info", rs.KeyInfoView.as_view(),
         name="resource-by-key-info"),
    path("image", im.UploadView.as_view(), name="image-upload"),
    path("image/import", im.ImportView.as_view(), name="image-import"),
    path("images", im.PageView.as_view(), name="image-page"),
    path("images/public/<str:public_key>", im.PublicView.as_view(), name="image-public"),
    path("images/<str:image_type>/<str:key>", im.ImageView.as_view(), name="image"),
    path("images/<str:image_type>/<str:key>/preview", im.PreviewView.as_view(), name="image-preview"),
    path("images/<str:image_type>/<str:key>/info", im.InfoView.as_view(), name="image-info"),
    path("images/<str:image_type>/<str:key>/export", im.ExportView.as_view(), name="image-export"),
    path("images/<str:image_type>/<str:key>/public/<str:is_public>", im.PublicStatusView.as_view(),
         name="image-public-status"),
]
