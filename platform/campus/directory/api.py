"""The directory's JSON endpoint: the same radius search as the page, for programs."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from campus.api.spec import ErrorSchema, ResponseSchema
from campus.directory import geo, photos, taxonomy
from campus.directory import search as finder
from campus.errors import json_error
from campus.integers import QueryInteger, QueryNumber
from campus.urls import public_url

blp = Blueprint("directory_api", __name__, description="The practitioner directory")

# The query parameter of each search input a refusal can be about (the page calls it radius).
_PARAMETERS = {"radius": "radius_miles"}


class DirectoryQuerySchema(Schema):
    zip = fields.String(
        required=True,
        validate=validate.Length(min=5, max=10),
        metadata={"description": "A US ZIP code (5 digits, or ZIP+4)", "example": "10001"},
    )
    radius_miles = QueryNumber(
        load_default=25,
        validate=validate.Range(min=1, max=geo.MAX_RADIUS_MILES),
        metadata={"description": "Search radius in miles"},
    )
    # Empty is "any", as the page's form sends it (and the courses API takes it).
    specialty = fields.String(
        load_default=None,
        validate=validate.OneOf(["", *taxonomy.specialties()]),
        metadata={"description": "A specialty key; empty for any"},
    )
    profession = fields.String(
        load_default=None,
        validate=validate.OneOf(["", *taxonomy.professions()]),
        metadata={"description": "A profession key; empty for any"},
    )
    credential = fields.String(
        load_default=None,
        validate=validate.Length(max=120),
        metadata={"description": "A published program's slug: holders of its valid credential"},
    )
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=finder.MAX_PAGE))
    per_page = QueryInteger(load_default=finder.PER_PAGE, validate=validate.Range(1, 50))


class PractitionerSchema(ResponseSchema):
    slug = fields.String()
    display_name = fields.String()
    practice_name = fields.String()
    city = fields.String()
    state = fields.String()
    zip_code = fields.String()
    distance_miles = fields.Float(metadata={"description": "From the searched ZIP's centre"})
    professions = fields.List(fields.String())
    specialties = fields.List(fields.String())
    accepting_clients = fields.Boolean()
    contact_enabled = fields.Boolean(
        metadata={"description": "Whether the profile page takes messages (relayed by email)"}
    )
    photo_url = fields.String(allow_none=True)
    url = fields.String()


class CentreSchema(ResponseSchema):
    zip = fields.String()
    city = fields.String()
    state = fields.String()


class DirectoryPageSchema(ResponseSchema):
    centre = fields.Nested(CentreSchema)
    radius_miles = fields.Float()
    items = fields.List(fields.Nested(PractitionerSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def _item(hit: finder.Hit) -> dict:
    profile = hit.profile
    name = photos.file_name(profile.photo_key)
    return {
        "slug": profile.slug,
        "display_name": profile.display_name,
        "practice_name": profile.practice_name,
        "city": profile.city,
        "state": profile.state,
        "zip_code": profile.zip_code,
        "distance_miles": round(hit.miles, 1),
        "professions": profile.profession_keys,
        "specialties": profile.specialty_keys,
        "accepting_clients": profile.accepting_clients,
        "contact_enabled": profile.contact_enabled,
        "photo_url": public_url("directory.photo", name=name) if name else None,
        "url": public_url("directory.profile", slug=profile.slug),
    }


@blp.route("/directory")
@blp.arguments(DirectoryQuerySchema, location="query")
@blp.response(200, DirectoryPageSchema)
@blp.alt_response(
    422,
    schema=ErrorSchema,
    description="A malformed or unknown ZIP code, or a bad filter (an unknown credential too)",
)
def list_practitioners(args: dict) -> dict | Response:
    """Find published practitioners within a radius of a ZIP code, nearest first."""
    try:
        query = finder.build_query(
            args["zip"],
            args["radius_miles"],
            specialty=args["specialty"],
            profession=args["profession"],
            credential=args["credential"],
            page=args["page"],
            per_page=args["per_page"],
        )
    except geo.LocationError as exc:
        # Named under details, as the parameters' own schema names a malformed one: a client
        # shows the message by the field either way.
        name = _PARAMETERS.get(exc.field, exc.field)
        return json_error("validation_error", str(exc), 422, details={"query": {name: [str(exc)]}})
    result = finder.search(query, count_impressions=request.method == "GET")  # HEAD shows no one
    page = {
        "centre": {
            "zip": query.place.zip_code,
            "city": query.place.city,
            "state": query.place.state,
        },
        "radius_miles": query.radius_miles,
        "items": [_item(hit) for hit in result.hits],
        "page": query.page,
        "per_page": query.per_page,
        "total": result.total,
        "pages": result.pages,
    }
    return page
