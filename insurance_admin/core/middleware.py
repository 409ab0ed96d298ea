"""A page that cannot get its rows because a big write holds their tables says so at once.

A bulk first load of an enrollment list (`programs.registry.bulk.IndexRebuild`) locks the
registry tables — and the claims tables that point at them — for the 17–25 s of its one
transaction. Without a limit every page that reads them (the window's look-up, the person
page, claims) would hang in the browser that long with no word of why. On PostgreSQL each web
request therefore runs with `lock_timeout` (`WEB_LOCK_TIMEOUT_MS`, 3 s): a request that has
waited that long for a lock is answered 503 with what holds it — the import under way, its
step and the time left — and a GET page retries by itself. A POST was rolled back with its
transaction: the page says that nothing was saved. Workers, beat and management commands are
not web requests and keep PostgreSQL's default (wait as long as it takes).
"""

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, OperationalError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext

logger = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's lock_not_available (lock_timeout, NOWAIT)


def is_lock_timeout(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE


class LockTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = settings.WEB_LOCK_TIMEOUT_MS
        if connection.vendor != "postgresql" or not timeout:
            return self.get_response(request)
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, false)", [f"{int(timeout)}ms"])
        try:
            return self.get_response(request)
        finally:
            self._reset()

    @staticmethod
    def _reset() -> None:
        if connection.connection is None:  # closed by the request (errors, CONN_MAX_AGE)
            return
        try:
            with connection.cursor() as cur:
                cur.execute("RESET lock_timeout")
        except DatabaseError:
            # A connection left in a failed transaction: never hand the limit to the next
            # request's code; a fresh connection starts with the default.
            if not connection.in_atomic_block:
                connection.close()

    def process_exception(self, request, exception):
        if not is_lock_timeout(exception):
            return None
        return registry_busy_response(request)


#: Functions that list the big writes under way, each as dicts with "label" (what is being
#: written, for people), "step", "percent" and "eta_seconds" (or None). Apps above core
#: register theirs (programs: the enrollment lists being applied) in their AppConfig.ready,
#: so core names no higher app.
_busy_writers: list = []


def register_busy_writer(func) -> None:
    if func not in _busy_writers:
        _busy_writers.append(func)


def registry_busy_response(request):
    """503: what holds the tables (the big writes under way), when to try again. The page
    itself reads nothing those writes lock: `request.tables_busy` tells the context
    processors (the navigation's queue counts) to stay out."""
    request.tables_busy = True
    applying = [item for writer in _busy_writers for item in writer()]
    etas = [a["eta_seconds"] for a in applying if a["eta_seconds"] is not None]
    retry = min(max(max(etas, default=5), 3), 30)
    if not request.accepts("text/html"):
        response = JsonResponse(
            {"busy": True, "retry_after": retry,
             "message": gettext("The data is being written by another task; try again shortly.")},
            status=503,
        )
    else:
        response = render(
            request,
            "core/busy.html",
            {"applying": applying, "retry": retry, "resubmit": request.method not in ("GET", "HEAD")},
            status=503,
        )
    response["Retry-After"] = str(retry)
    # Expected while a list is written, not a server error: a warning instead of Django's ERROR.
    logger.warning("%s %s waited on a lock; answered 503 (%d list(s) being applied)",
                   request.method, request.path, len(applying))
    response._has_been_logged = True
    return response


class SecurityHeadersMiddleware:
    """Deployment posture that every response shares (issue 17):

    - `X-Frame-Options: DENY` on every response, whoever set SAMEORIGIN before (unfold and
      import-export decorate admin views with `xframe_options_sameorigin`); no page of this
      site is ever framed.
    - `Cache-Control: no-store, private` on every response to a signed-in user (pages, exports,
      PDFs): a shared window terminal's browser cache and any proxy keep no personal data.
      Static files are answered by WhiteNoise before this middleware and keep their caching.
    - The admin's Content-Security-Policy (`SECURE_CSP_ADMIN`): django-unfold runs Alpine.js,
      which evaluates its attribute expressions (needs 'unsafe-eval'), and writes inline
      styles; the rest of the site gets the strict `SECURE_CSP`. Must sit below
      `ContentSecurityPolicyMiddleware`, which reads the choice on the way out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        admin_csp = getattr(settings, "SECURE_CSP_ADMIN", None)
        if admin_csp is not None and request.path_info.startswith(ADMIN_PREFIX) and not hasattr(response, "_csp_config"):
            response._csp_config = admin_csp
        response.headers["X-Frame-Options"] = "DENY"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path_info.startswith(UNCACHED_EXEMPT):
            response.headers["Cache-Control"] = "no-store, private"
            response.headers.pop("Expires", None)
        return response


ADMIN_PREFIX = "/admin/"
UNCACHED_EXEMPT = ("/static/",)
IDLE_KEY = "_idle_last_seen"
IDLE_WRITE_EVERY = 30  # seconds: the last-seen time is written at most this often


def idle_clock_start(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[IDLE_KEY] = int(time.time())


class SessionIdleTimeoutMiddleware:
    """A signed-in session ends after SESSION_IDLE_TIMEOUT seconds without a request (window
    terminals are shared; the absolute SESSION_COOKIE_AGE still applies). The next request
    is sent to the login page, which says why, and comes back after the login (`next`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = getattr(settings, "SESSION_IDLE_TIMEOUT", 0)
        user = getattr(request, "user", None)
        if timeout and user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(IDLE_KEY)
            if last is not None and now - last > timeout:
                return self._expired(request)
            if last is None or now - last >= min(IDLE_WRITE_EVERY, timeout):
                request.session[IDLE_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _expired(request):
        logout(request)
        minutes = max(1, round(settings.SESSION_IDLE_TIMEOUT / 60))
        messages.warning(
            request,
            ngettext(
                "You were signed out after %(minutes)d minute without activity. Please log in again.",
                "You were signed out after %(minutes)d minutes without activity. Please log in again.",
                minutes,
            ) % {"minutes": minutes},
        )
        # a POST is not replayed after the login: back to the page that sent it, else home
        next_url = request.get_full_path() if request.method in ("GET", "HEAD") else "/"
        return redirect_to_login(next_url)
