from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.accounts.forms import LoginForm
from cityops.cases.views import role_queue_links
from cityops.organization.choices import Role
from cityops.organization.selectors import memberships_of, primary_role, roles_of


class CityLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class CityLogoutView(auth_views.LogoutView):
    pass


def home(request):
    """Send each person to the home page of their main role (or the log-in page)."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    role = primary_role(request.user)
    if role is None:
        return render(request, "accounts/no_role.html", status=403)
    return redirect("accounts:role_home", role=role.value.replace("_", "-"))


@login_required
def role_home(request, role: str):
    try:
        current = Role(role.replace("-", "_"))
    except ValueError as exc:
        raise Http404(_("No such role.")) from exc
    roles = roles_of(request.user)
    if current not in roles:
        return render(request, "accounts/no_role.html", status=403)
    others = [
        {"role": r, "url": reverse("accounts:role_home", kwargs={"role": r.value.replace("_", "-")})}
        for r in Role
        if r in roles and r != current
    ]
    memberships = [m for m in memberships_of(request.user) if m.role == current]
    queues = role_queue_links(request.user, current, now=timezone.now())
    return render(
        request,
        f"accounts/home_{current.value}.html",
        {"role": current, "other_roles": others, "memberships": memberships, "queues": queues},
    )
