"""Filters that do not reveal what exists outside the user's scope.

django-filter validates a foreign-key filter against *all* rows of the
related model, so `?agreement=<id>` answered 400 for an id that does not
exist and 200 (empty) for one that exists but belongs to another customer:
an existence oracle. Here foreign keys filter by number only; an id outside
the scope simply matches nothing.
"""

from django.db import models
from django_filters import rest_framework as filters


class ScopedFilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": filters.NumberFilter},
        models.OneToOneField: {"filter_class": filters.NumberFilter},
    }


class ScopedFilterBackend(filters.DjangoFilterBackend):
    filterset_base = ScopedFilterSet
