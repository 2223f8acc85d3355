from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.parties.models import Contact, Membership, Party


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Party)
class PartyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    autocomplete_fields = ["parent"]
    inlines = [ContactInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "party", "role")
    list_filter = ("role", "party__kind")
    search_fields = ("user__username", "party__name")
    autocomplete_fields = ["user", "party"]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ("name", "email", "party", "role", "escalation_level")
    list_filter = ("role", "party")
    search_fields = ("name", "email", "party__name")
    autocomplete_fields = ["party"]
