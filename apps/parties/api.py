"""/api/v1/parties/"""

from rest_framework import serializers

from apps.core.api import ScopedModelViewSet, ServiceSerializer
from apps.parties.models import Party
from apps.parties.selectors import party_list_visible
from apps.parties.services import party_save


class PartySerializer(ServiceSerializer):
    # A serializer field called "parent" shadows Field.parent (the enclosing serializer)
    # in the type stubs only: DRF's metaclass moves declared fields out of the class.
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Party.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Party
        fields = ["id", "name", "kind", "parent", "is_active"]

    def save_with(self, *, instance, acting_user, data):
        return party_save(party=instance, acting_user=acting_user, **data)


class PartyViewSet(ScopedModelViewSet):
    serializer_class = PartySerializer
    filterset_fields = ["kind", "parent"]

    def scoped_queryset(self, user):
        return party_list_visible(user)
