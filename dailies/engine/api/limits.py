"""How large a request may be: bodies, forms, uploaded videos and reference images."""

from __future__ import annotations

MAX_UPLOAD = 200 * 1024 * 1024
"""The largest source video (edit, extend, character) accepted, in bytes."""
MAX_REFERENCE = 20 * 1024 * 1024
"""The largest input reference image, in bytes (the workbench's upload limit too)."""
MAX_REFERENCE_PIXELS = 4096 * 4096
"""Larger images are refused before they are decoded (a small PNG can decode to gigabytes)."""
MAX_SOURCE_SIDE = 1920
MAX_SOURCE_SECONDS = 60.0
MAX_BODY = MAX_UPLOAD + 1024 * 1024
"""The largest form body, in bytes: a source video and the fields beside it."""
MAX_JSON_BODY = MAX_REFERENCE * 4 // 3 + 1024 * 1024
"""The largest JSON body (and a form's fields that are not files, together), in bytes: a reference image as
a base64 data URL, and the rest."""
MAX_FILES = 4
"""The most files in one form (the API takes one: a reference image or a source video)."""
MAX_FIELDS = 200
"""The most fields in one form."""
