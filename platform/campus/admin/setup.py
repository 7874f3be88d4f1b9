"""Build the admin: Flask-Admin with the site's look, and every feature's admin views."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.menu import MenuView
from flask_admin.theme import Bootstrap4Theme

from campus.admin.services import installed
from campus.extensions import db


def init_admin(app: Flask) -> Admin:
    """Install /admin/ on an app with the views of the features it has."""
    from campus.admin.members import MemberView
    from campus.admin.views import AuditLogView, ConfirmView, DashboardView

    admin = Admin(
        app,
        name="Campus admin",
        url="/admin",
        index_view=DashboardView(name="Dashboard", url="/admin", endpoint="admin"),
        theme=Bootstrap4Theme(base_template="admin/campus/base.html", fluid=True),
    )
    session = db  # Flask-Admin reads the session from the SQLAlchemy object per query
    if installed("learning", app):
        from campus.admin import catalog

        catalog.add_views(admin, session)
        from campus.admin import ce_records

        ce_records.add_views(admin, session)
    if installed("licenses", app):
        from campus.admin import licenses_views

        licenses_views.add_views(admin, session)
    if installed("content", app):
        from campus.admin import library

        library.add_views(admin, session)
    admin.add_view(MemberView(session, name="Members", endpoint="admin_members"))
    from campus.admin import billing_views

    billing_views.add_views(admin, session)
    if installed("certificates", app):
        from campus.admin import certificates_views

        certificates_views.add_views(admin, session)
    if installed("reporting", app):
        from campus.admin import reporting_views

        reporting_views.add_views(admin, session)
    if installed("programs", app):
        from campus.admin import programs_views

        programs_views.add_views(admin, session)
    if installed("directory", app):
        from campus.admin import directory_views

        directory_views.add_views(admin, session)
    if installed("records", app):
        from campus.admin import records_views

        records_views.add_views(admin, session)
    admin.add_view(
        AuditLogView(session, name="Audit log", endpoint="admin_audit", url="/admin/audit")
    )
    admin.add_view(ConfirmView(name="Confirm", endpoint="admin_confirm", url="/admin/confirm"))
    _menu_links_per_request(admin)
    app.before_request(_typed_before_confirming)
    return admin


def _typed_before_confirming() -> None:
    """Back on the page of a form refused for the confirmation: its forms get what was typed."""
    from flask import g, request, session

    from campus.admin import security
    from campus.urls import requested_path

    if request.method == "GET" and security.KEPT_KEY in session:
        g.typed_fields = security.take_kept_fields(requested_path())


def _menu_links_per_request(admin: Admin) -> None:
    """Build the menu's links on every request, under the path that request came by."""
    # Flask-Admin keeps each item's first URL: behind a proxy that adds a path prefix, a menu
    # first drawn for a request without it (or with another) would link every admin elsewhere.
    # (get_children would ask each view whether the current user may see it: no request here.)
    items = list(admin.menu())
    while items:
        item = items.pop()
        items.extend(item._children)
        if isinstance(item, MenuView):
            item._cache = False
