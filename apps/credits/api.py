"""/api/v1/credit-tiers/"""

from rest_framework import serializers

from apps.core.api import ScopedModelViewSet, ServiceSerializer
from apps.credits.models import CreditTier
from apps.credits.services import credit_tier_delete, credit_tier_save
from apps.metrics.models import Objective
from apps.revisions.models import Revision
from apps.revisions.selectors import revision_list_visible


class CreditTierSerializer(ServiceSerializer):
    revision = serializers.PrimaryKeyRelatedField(queryset=Revision.objects.all())
    objective = serializers.PrimaryKeyRelatedField(
        queryset=Objective.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = CreditTier
        fields = ["id", "revision", "objective", "below", "percent"]

    def save_with(self, *, instance, acting_user, data):
        return credit_tier_save(tier=instance, acting_user=acting_user, **data)


class CreditTierViewSet(ScopedModelViewSet):
    serializer_class = CreditTierSerializer
    filterset_fields = ["revision", "objective"]

    def scoped_queryset(self, user):
        return CreditTier.objects.select_related("objective").filter(
            revision__in=revision_list_visible(user).values("pk")
        )

    def perform_destroy(self, instance):
        credit_tier_delete(tier=instance, acting_user=self.request.user)
