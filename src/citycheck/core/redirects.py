"""Where a form sends the user back to: the ``next`` it carries, when that stays on this site.

Every view that honours a ``next`` field redirects through :func:`redirect_to_next`, so a
link or form from elsewhere cannot send a signed-in user on to another site.
"""

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_to_next(request: HttpRequest, fallback, *args, **kwargs) -> HttpResponseRedirect:
    """Redirect to the request's ``next`` (posted, else in the query) if it is a URL of this
    host and scheme; otherwise to ``fallback`` (a URL, URL name with ``args``/``kwargs``, or
    model, as for :func:`django.shortcuts.redirect`)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return redirect_within_site(request, target, fallback, *args, **kwargs)


def redirect_within_site(
    request: HttpRequest, target: str, fallback, *args, **kwargs
) -> HttpResponseRedirect:
    """Redirect to ``target`` if it is a URL of this host and scheme (a ``next``, a
    ``Referer``); otherwise to ``fallback``."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback, *args, **kwargs)
