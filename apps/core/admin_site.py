"""The provider admin's site: every ModelAdmin answers 404 for an object that is not there.

Django's admin answers a change, delete or history page of a missing object with a
redirect to its index and a "doesn't exist" message. On a tenant's host every id is
looked up in that tenant's schema only, so an id from another tenant is simply missing;
a 404 says so plainly, as the portal and the API do (tests/api/test_url_matrix.py).
The site is installed as the default admin site by ``apps.core.apps.AdminConfig``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import Http404, HttpRequest, HttpResponse


class MissingObjectIs404:
    """Mixed into every ModelAdmin registered on :class:`TenantAdminSite`."""

    # Django calls this one hook from changeform_view, delete_view and history_view.
    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404(f"No {opts.verbose_name} with this id.")


class TenantAdminSite(admin.AdminSite):
    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, MissingObjectIs404):
            admin_class = type(
                admin_class.__name__,
                (MissingObjectIs404, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with :class:`TenantAdminSite` as its default site (Django's
    documented way to replace ``admin.site``). INSTALLED_APPS names this class."""

    default_site = "apps.core.admin_site.TenantAdminSite"
