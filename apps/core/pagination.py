"""The API's page shape: {"count", "next", "previous", "results"}; ?page_size= up to 500.

Its own module: DRF imports the pagination class while it loads its settings,
so it must not import views or serializers.
"""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
