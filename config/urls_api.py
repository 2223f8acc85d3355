"""/api/v1/ — the versioned REST API of a tenant, in the order of the data path."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.agreements.api import AgreementViewSet, ServiceViewSet
from apps.calendars.api import CalendarViewSet
from apps.compliance.api import register as register_compliance
from apps.core.api import ObtainTokenView
from apps.credits.api import register as register_credits
from apps.integrations.api import register as register_integrations
from apps.measurements.api import register as register_measurements
from apps.parties.api import PartyViewSet
from apps.revisions.api import CreditTierViewSet, ObjectiveViewSet, RevisionViewSet
from apps.revisions.openslo.api import register as register_openslo


class Router(DefaultRouter):
    """Every route with or without its trailing slash: ``POST /api/v1/tickets`` is the same
    call as ``POST /api/v1/tickets/`` (a redirect would drop the body)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = Router()
# Later steps add actions under agreements/{id}/ (at-risk/, evaluate/). They are
# registered first: the API root lists one entry per prefix, the last one registered.
register_compliance(router)
register_credits(router)
register_openslo(router)
router.register("parties", PartyViewSet, basename="party")
router.register("services", ServiceViewSet, basename="service")
router.register("agreements", AgreementViewSet, basename="agreement")
register_measurements(router)
register_integrations(router)
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("revisions", RevisionViewSet, basename="revision")
router.register("objectives", ObjectiveViewSet, basename="objective")
router.register("credit-tiers", CreditTierViewSet, basename="credit-tier")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
