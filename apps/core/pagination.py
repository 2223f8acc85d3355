"""The API's page shape: {"count", "next", "previous", "results"}; ?page_size= up to 500.

``?page=`` is a whole number from 1 (or ``last``); anything else is bad input, a 400
naming ``page``. A page past the end is a 404 (``{"detail": "Invalid page."}``).

Its own module: DRF imports the pagination class while it loads its settings,
so it must not import views or serializers.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from apps.core.params import parse_whole_number


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        text = request.query_params.get(self.page_query_param) or "1"
        if text in self.last_page_strings:
            return paginator.num_pages
        try:
            return parse_whole_number(text, name=self.page_query_param, minimum=1)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
