"""The OpenAPI 3.1 document, assembled from each area's ``OPENAPI_PATHS``.

A test checks that every /api/v1 route is documented here and every documented path exists.
"""

from __future__ import annotations

import importlib
from typing import Any

# Areas add their module here when they add API endpoints.
SOURCES = ["trainer.api.openapi", "trainer.courses.api", "trainer.exams.api"]

ERROR = {"$ref": "#/components/schemas/Error"}


def error_responses(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
            for c in codes}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


USER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "role": {
            "type": "string", "enum": ["worker", "instructor", "employer_admin", "admin"]},
        "username": {"type": ["string", "null"]},
        "phone": {"type": "string", "description": "Masked mobile number"},
        "national_id": {"type": "string", "description": "Masked national ID number"},
        "employer": {"type": ["object", "null"]}, "active": {"type": "boolean"},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/tokens": {
        "post": {
            "summary": "Exchange a login and password for a bearer token",
            "security": [],
            "requestBody": {"required": True, "content": json_content({
                "type": "object", "required": ["login", "password"],
                "properties": {"login": {"type": "string", "maxLength": 60,
                                         "description": "Mobile number or username"},
                               "password": {"type": "string", "maxLength": 200},
                               "name": {"type": "string"}}})},
            "responses": {"201": {"description": "Token issued", "content": json_content({
                "type": "object", "properties": {
                    "id": {"type": "integer"}, "token": {"type": "string"},
                    "token_type": {"type": "string"}, "expires_at": {"type": "string",
                                                                     "format": "date-time"},
                    "user": USER}})},
                **error_responses(400, 401, 403, 429)},
        },
        "get": {"summary": "List the caller's tokens",
                "responses": {"200": {"description": "Tokens"}, **error_responses(401)}},
    },
    "/tokens/{token_id}": {
        "delete": {"summary": "Revoke a token",
                   "parameters": [{"name": "token_id", "in": "path", "required": True,
                                   "schema": {"type": "integer"}}],
                   "responses": {"204": {"description": "Revoked"}, **error_responses(401, 404)}},
    },
    "/me": {"get": {"summary": "The caller", "responses": {
        "200": {"description": "User", "content": json_content(USER)}, **error_responses(401)}}},
    "/users": {
        "get": {"summary": "Users the caller may see (admins: all; employer admins: own employer)",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}},
                               {"name": "offset", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "Users"}, **error_responses(401, 403)}},
        "post": {"summary": "Create a user",
                 "requestBody": {"required": True, "content": json_content({
                     "type": "object", "required": ["name"], "properties": {
                         k: {"type": "string"} for k in ("name", "role", "username", "phone",
                                                         "national_id", "employer", "password")}})},
                 "responses": {"201": {"description": "Created", "content": json_content(USER)},
                               **error_responses(400, 401, 403, 422)}},
    },
    "/users/{user_id}": {"get": {
        "summary": "One user",
        "parameters": [{"name": "user_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "User", "content": json_content(USER)},
                      **error_responses(401, 403, 404)}}},
    "/openapi.json": {"get": {"summary": "This document", "security": [],
                              "responses": {"200": {"description": "OpenAPI document"}}}},
}


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name in SOURCES:
        paths.update(importlib.import_module(name).OPENAPI_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "trainer API", "version": "1",
                 "description": "Training, exams and certificates for workplace safety."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {"type": "object", "required": ["code", "message"],
                                         "properties": {"code": {"type": "string"},
                                                        "message": {"type": "string"},
                                                        "details": {"type": "object"}}}}}},
        },
    }
