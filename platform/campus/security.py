"""The browser-facing perimeter: security headers on every response and the proxy settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Request, abort, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Response as FlaskResponse
from itsdangerous import SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import MapAdapter, RoutingException
from werkzeug.wrappers import Response

from campus.byteranges import RangedResponse
from campus.urls import safe_local_path

# Where embedded lesson and article videos may come from (the sanitizers allow only these).
_VIDEO_ORIGINS = (
    "https://www.youtube-nocookie.com",
    "https://youtube-nocookie.com",  # an article may link the host without www
    "https://player.vimeo.com",
)
# Stripe's hosted pages: the checkout and portal forms end in a 303 to them, and Chromium
# checks form-action against every redirect of a form submission.
_STRIPE_FORM_ORIGINS = ("https://checkout.stripe.com", "https://billing.stripe.com")
# Responses a shared or browser cache must never keep, whoever asked for them.
_PRIVATE_MIMETYPES = frozenset({"application/pdf", "text/csv"})
# How far ahead of this host's clock another web host's may run and the cookie it signed count.
CLOCK_SKEW = timedelta(minutes=5)
_PROXY_SETTINGS = {
    "x_for": "PROXY_FIX_X_FOR",
    "x_proto": "PROXY_FIX_X_PROTO",
    "x_host": "PROXY_FIX_X_HOST",
    "x_port": "PROXY_FIX_X_PORT",
    "x_prefix": "PROXY_FIX_X_PREFIX",
}


def content_security_policy(app: Flask) -> str:
    """Build the page policy: scripts and styles only from our own files, no framing."""
    form_action = ["'self'"]
    if not app.config.get("SIMULATED_STRIPE"):
        form_action += _STRIPE_FORM_ORIGINS
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Course covers and article images may be any https address an admin entered; Bootstrap
        # draws its form controls with data: SVGs.
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": list(_VIDEO_ORIGINS),
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": form_action,
        "frame-ancestors": ["'none'"],
    }
    policy = "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
    if app.config.get("SECURITY_HEADERS_HSTS"):
        policy += "; upgrade-insecure-requests"
    return policy


# Anything that is not a page (JSON, feeds, files) loads nothing and may not be framed.
_NON_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Chromium shows a PDF through its viewer plugin, which a default-src or object-src of 'none'
# on the PDF's own response would block.
_PDF_POLICY = "frame-ancestors 'none'"


def _is_signed_in() -> bool:
    # Only a request that already loaded its user can have shown anything personal; asking
    # here would load the user (a query) for every static file.
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)


def _holds_a_secret() -> bool:
    # The address of an emailed link (unsubscribe, reminders stop, email confirmation, password
    # reset, a download) is the secret: every such route names it `token`. A page sent such a
    # link as its way back (the sign-in page's `next`) holds the secret in its own address.
    if not request:
        return False
    if request.view_args and "token" in request.view_args:
        return True
    if request.url_rule is None and token_in_path(request.path):
        return True  # a mangled link's 404 or 405: no view arguments name its token
    # Only a value holding a path can name a link (a search's ZIP and radius cannot): the rest
    # of the check matches routes, which every search page would otherwise pay for.
    if not any("/" in value for _, value in request.args.items(multi=True)):
        return False
    try:
        host = request.host
        adapter = current_app.create_url_adapter(request)
    except SecurityError:
        # A Host not trusted: the request is refused (400) before any page, and reading the
        # host again here raised, a 500.
        return False
    return any(
        _names_a_secret_link(value, host, adapter) for _, value in request.args.items(multi=True)
    )


def _names_a_secret_link(value: str, host: str, adapter: MapAdapter | None, depth: int = 2) -> bool:
    """Tell whether a query value is a path on this site (or a query) holding a link's token."""
    try:
        parts = urlsplit(value[:4000])
    except ValueError:
        return False
    if parts.netloc and parts.netloc != host:
        return False
    path = parts.path
    if path.startswith("/") and request.script_root:
        path = path.removeprefix(request.script_root)
    if path.startswith("/") and adapter is not None:
        try:
            _endpoint, args = adapter.match(path, method="GET")
        except (HTTPException, RoutingException):
            args = {}
        if "token" in args:
            return True
    # A way back that itself carries one (a sign-up page sent on to sign in, say).
    return depth > 0 and any(
        _names_a_secret_link(inner, host, adapter, depth - 1) for _, inner in parse_qsl(parts.query)
    )


# The most segments a route of this site has (tests check it).
LONGEST_ROUTE = 8


def token_in_path(path: str) -> str | None:
    """Return the token of an emailed link held by a path that matched no route, if it holds one.

    A link copied with what followed it in the message (a slash, a bracket) or sent with another
    method answers 404 or 405, yet still holds a live token: the longest start of the path, whole
    segments, that is a route names it, when that route takes a token.
    """
    try:
        adapter = current_app.create_url_adapter(request)
    except (SecurityError, HTTPException):
        return None
    if adapter is None:
        return None
    # Asked twice of one missing page (its headers, its log line): the matching is done once.
    memo = request.environ.get("campus.path_token")
    if memo is not None and memo[0] == path:
        return memo[1]
    token = None
    segments = path.split("/")
    # Only starts as long as a route can be: a path of a thousand segments costs a few matches.
    for end in range(min(len(segments), LONGEST_ROUTE + 1), 1, -1):
        args = _route_args(adapter, "/".join(segments[:end]))
        if args is not None:
            token = str(args["token"]) if args.get("token") else None
            break
    request.environ["campus.path_token"] = (path, token)
    return token


def _route_args(adapter: MapAdapter, path: str) -> Mapping[str, Any] | None:
    """Return the arguments of the route a path is (under GET or POST); None if it is none."""
    for method in ("GET", "POST"):
        try:
            return adapter.match(path, method=method)[1]
        except MethodNotAllowed:
            continue
        except (HTTPException, RoutingException):
            return None
    return None


def set_security_headers(response: Response, page_policy: str, hsts: str | None) -> Response:
    """Add the security headers to a response (a view's own choices win where it set them)."""
    headers = response.headers
    if response.mimetype == "text/html":
        policy = page_policy
    elif response.mimetype == "application/pdf":
        policy = _PDF_POLICY
    else:
        policy = _NON_PAGE_POLICY
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    secret = _holds_a_secret()
    if secret:
        # A whole Referer would carry the token to the next page, its static files and their
        # logs; none at all fails the CSRF check of the page's own form over HTTPS, which wants
        # one naming this site. The origin alone is both.
        headers["Referrer-Policy"] = "strict-origin"
    if hsts:
        headers.setdefault("Strict-Transport-Security", hsts)
    attachment = headers.get("Content-Disposition", "").lower().startswith("attachment")
    if secret and response.cache_control.no_store:
        pass  # the view's own no-store (a download's "private, no-store" redirect) stands
    elif secret or _is_signed_in() or attachment or response.mimetype in _PRIVATE_MIMETYPES:
        # Overrides any caching a view asked for: a signed-in page, a certificate, an export or
        # an emailed link's page must not be replayed from a cache to the next person at this
        # browser or proxy.
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def keep_from_shared_caches(response: Response) -> None:
    """Let only the visitor's own browser keep a response (a view's no-store or private stays)."""
    cache = response.cache_control
    if cache.no_store or cache.private:
        return
    cache.public = False
    cache.s_maxage = None
    cache.private = True


class _SkewTolerantSigner(TimestampSigner):
    """A timestamp signer that takes a signature dated up to CLOCK_SKEW ahead of this host.

    itsdangerous refuses a signature from the future, so with several web hosts a session
    cookie signed by one whose clock runs even a second ahead was refused by the next host
    (its whole seconds apart), and the member was signed out. Only our own hosts can sign,
    so a date slightly ahead is their clock, never a forgery; one past the lifetime still fails.
    """

    def unsign(  # type: ignore[override]
        self, signed_value: str | bytes, max_age: int | None = None, return_timestamp: bool = False
    ) -> tuple[bytes, datetime] | bytes:
        try:
            return super().unsign(signed_value, max_age, return_timestamp)  # type: ignore[call-overload]
        except SignatureExpired as refused:
            signed_at, now = refused.date_signed, datetime.now(UTC)
            if signed_at is None or not now < signed_at <= now + CLOCK_SKEW:
                raise
            return super().unsign(signed_value, None, return_timestamp)  # type: ignore[call-overload]


class PrivateCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session; a response that sets any cookie is kept from shared caches.

    A CDN or proxy that stored such a response would hand one visitor's cookie (a session with
    its CSRF key, a remember-me token) to everyone after. The session is saved last, after every
    after_request hook, so every cookie the response will carry is on it by now.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        serializer = super().get_signing_serializer(app)
        if serializer is not None:
            serializer.signer = _SkewTolerantSigner  # web hosts' clocks never agree exactly
        return serializer

    def save_session(self, app: Flask, session: SessionMixin, response: FlaskResponse) -> None:
        super().save_session(app, session, response)
        if "Set-Cookie" in response.headers:
            keep_from_shared_caches(response)


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


class NulFreeParameters(ImmutableMultiDict):
    """Query string and form fields with their NUL bytes dropped, as they are parsed.

    No browser sends one, and PostgreSQL can neither store nor compare text holding one (the
    driver raises, a 500), so a search term or a form field with "%00" loses the character, as
    the forms' own filters drop other control characters. Uploads are left as they are.
    """

    def __init__(self, mapping: Any = None) -> None:
        if isinstance(mapping, list):  # what Werkzeug's parsers pass: (name, value) pairs
            mapping = [(_without_nul(name), _without_nul(value)) for name, value in mapping]
        super().__init__(mapping)


class CampusRequest(Request):
    """Flask's request, with the query string and form parsed into NulFreeParameters."""

    parameter_storage_class = NulFreeParameters


def refuse_nul_paths() -> None:
    """Answer a path holding a NUL byte with a 404: no page has one, and no query may see it."""
    if "\x00" in request.path:
        abort(404)


_ODD_PREFIX = "campus.odd_prefix"


def _is_plain_path(prefix: str) -> bool:
    # A path of this site to go to (the check every way back uses), with nothing that would
    # end the path in the links it starts.
    return (
        safe_local_path(prefix, "") == prefix
        and prefix.isprintable()
        and not any(ch in prefix for ch in "?#")
    )


def plain_prefixes_only(wsgi_app: Any) -> Any:
    """Drop a path prefix (X-Forwarded-Prefix, as ProxyFix set it) that is not a plain path.

    The prefix starts every link and redirect the app builds: "//evil.example" would send
    visitors to another site. A proxy that sets the header sends a path such as "/campus"; one
    that passes a client's header through sends whatever the client wrote. The request is then
    refused (refuse_odd_prefixes), its error page built without the prefix.
    """

    def guarded(environ: dict, start_response: Any) -> Any:
        prefix = environ.get("SCRIPT_NAME", "")
        if prefix and not _is_plain_path(prefix):
            environ["SCRIPT_NAME"], environ[_ODD_PREFIX] = "", True
        return wsgi_app(environ, start_response)

    return guarded


def refuse_odd_prefixes() -> None:
    """Answer 400 to a request whose path prefix was dropped as not a plain path."""
    if request.environ.get(_ODD_PREFIX):
        abort(400, "The path prefix the proxy sent is not a plain path.")


_FORM = "application/x-www-form-urlencoded"


def streamed_past_limit() -> bool:
    """Tell whether a streamed (chunked) body runs past MAX_CONTENT_LENGTH.

    Werkzeug stops reading a body without a Content-Length at the limit without a word, where a
    sized one is refused. Reading one byte past the limit tells the two apart; the body is then
    read from that copy.
    """
    limit = request.max_content_length
    streamed = request.content_length is None and request.environ.get("wsgi.input_terminated")
    if limit is None or not streamed:
        return False
    request.max_content_length = limit + 1
    try:
        return len(request.get_data(cache=True)) > limit
    finally:
        request.max_content_length = limit


def refuse_overlong_streamed_forms() -> None:
    """Answer 413 to a streamed (chunked) form past MAX_CONTENT_LENGTH, as to one with a length.

    Cut short at the limit, the form was handled with its last fields missing.
    """
    if request.mimetype == _FORM and streamed_past_limit():
        abort(413)


def _after_api_auth(hooks: list) -> int:
    """Return the place just after the API's authentication hook (the first place without it)."""
    from campus.api.auth import authenticate_api_request

    return hooks.index(authenticate_api_request) + 1 if authenticate_api_request in hooks else 0


def register_security(app: Flask) -> None:
    """Send the security headers on every response and trust the configured proxies only."""
    page_policy = content_security_policy(app)
    hsts = f"max-age={app.config['HSTS_MAX_AGE']}" if app.config["SECURITY_HEADERS_HSTS"] else None

    app.request_class = CampusRequest
    app.session_interface = PrivateCookieSessions()
    app.response_class = RangedResponse
    app.before_request(refuse_nul_paths)
    # Before the CSRF check, which is the first to read the form, but after who is calling the
    # API (which reads no body): a caller without a valid token hears 401, not the size limit.
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(_after_api_auth(hooks), refuse_overlong_streamed_forms)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        return set_security_headers(response, page_policy, hsts)

    counts = {name: int(app.config.get(setting) or 0) for name, setting in _PROXY_SETTINGS.items()}
    if any(counts.values()):
        # Only X-Forwarded-* headers set by that many proxies are believed; with none configured
        # a client could claim any address (and dodge the rate limits) or any scheme.
        inner = plain_prefixes_only(app.wsgi_app) if counts["x_prefix"] else app.wsgi_app
        app.wsgi_app = ProxyFix(inner, **counts)  # type: ignore[method-assign]
    if counts["x_prefix"]:
        app.before_request_funcs.setdefault(None, []).insert(0, refuse_odd_prefixes)


def any_origin(response: Response) -> Response:
    """Let scripts on other sites read a public answer (one that uses no cookie or token)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
