"""The customer portal's URLs (on a tenant's host)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from apps.portal.views import account, credits, overview, periods, revisions, subscriptions
from apps.portal.views.whatif import revision_what_if_view

app_name = "portal"

PERIOD = "agreements/<int:pk>/periods/<str:period>/"
REVISION = "agreements/<int:pk>/revisions/<int:number>/"

urlpatterns = [
    path("", overview.home, name="home"),
    path("agreements/<int:pk>/", overview.agreement_detail, name="agreement"),
    path(PERIOD, periods.period_detail, name="period"),
    path(f"{PERIOD}report.pdf", periods.period_pdf, name="period-pdf"),
    path(f"{PERIOD}report.csv", periods.period_csv, name="period-csv"),
    path(f"{PERIOD}tickets/<int:ticket>/", periods.ticket_detail, name="ticket"),
    path("agreements/<int:pk>/revisions/", revisions.revision_list, name="revisions"),
    path(REVISION, revisions.revision_detail, name="revision"),
    path(f"{REVISION}compare/", revisions.revision_compare, name="revision-compare"),
    path(f"{REVISION}accept/", revisions.revision_accept_view, name="revision-accept"),
    path(f"{REVISION}what-if/", revision_what_if_view, name="revision-what-if"),
    path("credits/", credits.credit_list, name="credits"),
    path("credits/<int:pk>/", credits.credit_detail, name="credit"),
    path("credits/<int:pk>/dispute/", credits.credit_dispute_view, name="credit-dispute"),
    path("subscriptions/", subscriptions.subscription_list, name="subscriptions"),
    path("reports/unsubscribe/<str:token>/", subscriptions.unsubscribe, name="unsubscribe"),
    path("language/", account.set_language, name="language"),
    path("view-as/", account.view_as, name="view-as"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        account.PasswordResetView.as_view(
            template_name="portal/password_reset.html",
            email_template_name="portal/email/password_reset.txt",
            html_email_template_name="portal/email/password_reset.html",
            subject_template_name="portal/email/password_reset_subject.txt",
            success_url=reverse_lazy("portal:password-reset-sent"),
        ),
        name="password-reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_sent.html"),
        name="password-reset-sent",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_reset_confirm.html",
            success_url=reverse_lazy("portal:password-reset-done"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal/password_reset_done.html"
        ),
        name="password-reset-done",
    ),
]
