"""Platform operators' admin, served on the public host only.

A separate AdminSite keeps Tenant and Domain out of the providers' admin:
the tenant URL conf mounts django's default site, which never registers them.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from apps.tenants.models import Domain, Tenant


class PlatformAdminSite(admin.AdminSite):
    site_header = "SLA Portal — platform administration"
    site_title = "SLA Portal platform"
    index_title = "Providers and domains"


platform_admin = PlatformAdminSite(name="platform_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=platform_admin)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "schema_name", "default_timezone", "is_template", "created_on")
    search_fields = ("name", "schema_name")
    readonly_fields = ("is_template", "created_on")
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        # The schema name is the tenant's identity; it cannot change after creation.
        if obj is not None:
            return (*self.readonly_fields, "schema_name")
        return self.readonly_fields


@admin.register(Domain, site=platform_admin)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)


platform_admin.register(User, UserAdmin)
platform_admin.register(Group, GroupAdmin)
