"""/api/v1/ — the versioned REST API of a tenant."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.agreements.api import AgreementViewSet, ServiceViewSet
from apps.core.api import ObtainTokenView
from apps.credits.api import CreditTierViewSet
from apps.credits.api import register as register_credits
from apps.metrics.api import CalendarViewSet, ObjectiveViewSet
from apps.metrics.api_compliance import ComplianceViewSet
from apps.metrics.api_ingestion import register as register_ingestion
from apps.parties.api import PartyViewSet
from apps.revisions.api import RevisionViewSet

router = DefaultRouter()
router.register("parties", PartyViewSet, basename="party")
router.register("services", ServiceViewSet, basename="service")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("revisions", RevisionViewSet, basename="revision")
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("objectives", ObjectiveViewSet, basename="objective")
router.register("credit-tiers", CreditTierViewSet, basename="credit-tier")
router.register("compliance", ComplianceViewSet, basename="compliance")
register_credits(router)
register_ingestion(router)

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
