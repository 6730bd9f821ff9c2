"""Converter and event endpoints at ThingsBoard's paths.

Literal segments come before ids at the same position (`converter/testUpLink` before
`converter/<pk>`, `events/.../clear` before `events/.../<eventType>`)."""

from django.urls import path

from converters.api import events, history, library, stored_tests, testing, unwrap
from converters.api.views import ConverterResource, DebugInView
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view

__all__ = ["urlpatterns"]

R = ConverterResource

urlpatterns = [
    path("converter/testUpLink", testing.UplinkTestView.as_view(), name="converter-test-uplink"),
    path("converter/testDownLink", testing.DownlinkTestView.as_view(), name="converter-test-downlink"),
    path("converter/unwrap/<str:integration_type>", unwrap.UnwrapView.as_view(), name="converter-unwrap"),
    path("converter/library/<str:integration_type>/vendors", library.VendorsView.as_view(),
         name="converter-library-vendors"),
    path("converter/library/<str:integration_type>/<str:vendor>/models", library.ModelsView.as_view(),
         name="converter-library-models"),
    path("converter/library/<str:integration_type>/<str:vendor>/<str:model>/<str:direction>",
         library.EntryView.as_view(), name="converter-library-entry"),
    path("converter/library/<str:integration_type>/<str:vendor>/<str:model>/<str:direction>/metadata",
         library.EntryMetadataView.as_view(), name="converter-library-metadata"),
    path("converter/library/<str:integration_type>/<str:vendor>/<str:model>/<str:direction>/payload",
         library.EntryPayloadView.as_view(), name="converter-library-payload"),
    path("converter", as_view(R, SaveView), name="converter-save"),
    path("converter/<str:pk>/debugIn", as_view(R, DebugInView), name="converter-debug-in"),
    path("converter/<str:pk>/versions", history.VersionsView.as_view(), name="converter-versions"),
    path("converter/<str:pk>/versions/<str:number>", history.VersionView.as_view(), name="converter-version"),
    path("converter/<str:pk>/versions/<str:number>/rollback", history.RollbackView.as_view(),
         name="converter-version-rollback"),
    path("converter/<str:pk>/tests", stored_tests.TestsView.as_view(), name="converter-tests"),
    path("converter/<str:pk>/tests/run", stored_tests.TestRunView.as_view(), name="converter-tests-run"),
    path("converter/<str:pk>/tests/<str:test_id>", stored_tests.TestView.as_view(), name="converter-test"),
    path("converter/<str:pk>/health", history.HealthView.as_view(), name="converter-health"),
    path("converter/<str:pk>", as_view(R, DetailView), name="converter-detail"),
    path("converters/list", as_view(R, ByIdsView, ids_param="converterIds"), name="converter-by-ids"),
    path("converters", as_view(R, ListView), name="converter-list"),
    path("events/<str:entity_type>/<str:entity_id>/clear", events.ClearEventsView.as_view(), name="events-clear"),
    path("events/<str:entity_type>/<str:entity_id>/<str:event_type>", events.EventsByTypeView.as_view(),
         name="events-by-type"),
    path("events/<str:entity_type>/<str:entity_id>", events.EventsByFilterView.as_view(), name="events-by-filter"),
]
