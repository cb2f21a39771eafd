"""The OpenAPI 3.1 document served at /api/openapi.json (hand-written; a test validates it and checks that
every API route is in it)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _form_and_json(schema: dict) -> dict:
    return {
        "content": {"application/json": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}}
    }


def _errors(*codes: int) -> dict:
    text = {
        400: "Invalid request",
        403: "Invalid or missing API key",
        404: "Not found",
        429: "Rate limit exceeded",
        503: "Busy or timed out",
    }
    return {str(c): {"description": text[c], "content": _json(ERROR)} for c in codes}


TRANSLATE_BODY = {
    "type": "object",
    "required": ["q", "source", "target"],
    "properties": {
        "q": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "source": {"type": "string", "description": "Language code, or 'auto' to detect it"},
        "target": {"type": "string"},
        "format": {"type": "string", "enum": ["text", "html"], "default": "text"},
        "alternatives": {"type": "integer", "description": "Accepted; always answered with no alternatives"},
        "api_key": {"type": "string"},
        "nmt_translator": {"type": "string", "description": "Ours: a translator name from /api/translators"},
        "nmt_options": {"type": "object", "description": "Ours: decoding options the translator declares"},
    },
}
DETECTED = {"type": "object", "properties": {"confidence": {"type": "number"}, "language": {"type": "string"}}}
JOB = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "state": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
        "translator": {"type": "string"},
        "output": {"type": "string"},
        "error": {"type": "string"},
        "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
    },
}
JOB_RESPONSE = {"type": "object", "properties": {"job": {"$ref": "#/components/schemas/Job"}}}
JOB_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
    },
}
JOB_ID = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NAR translation studio API",
            "version": "1.0.0",
            "description": "LibreTranslate-compatible endpoints (/translate, /detect, /languages, /translate_file, "
            "/download_file, /frontend/settings) plus this site's job API. Errors are "
            '{"error": "..."} on the LibreTranslate endpoints.',
        },
        "paths": {
            "/translate": {
                "post": {
                    "summary": "Translate text (a string or an array of strings)",
                    "requestBody": {"required": True, **_form_and_json(TRANSLATE_BODY)},
                    "responses": {
                        "200": {
                            "description": "Translation",
                            "content": _json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "translatedText": {
                                            "oneOf": [
                                                {"type": "string"},
                                                {"type": "array", "items": {"type": "string"}},
                                            ]
                                        },
                                        "detectedLanguage": {"oneOf": [DETECTED, {"type": "array", "items": DETECTED}]},
                                        "alternatives": {"type": "array"},
                                    },
                                }
                            ),
                        },
                        **_errors(400, 403, 429, 503),
                    },
                }
            },
            "/detect": {
                "post": {
                    "summary": "Detect the language of a text",
                    "requestBody": {
                        "required": True,
                        **_form_and_json(
                            {
                                "type": "object",
                                "required": ["q"],
                                "properties": {"q": {"type": "string"}, "api_key": {"type": "string"}},
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "Candidates, best first",
                            "content": _json({"type": "array", "items": DETECTED}),
                        },
                        **_errors(400, 403, 429),
                    },
                }
            },
            "/languages": {
                "get": {
                    "summary": "Languages and the targets reachable from each",
                    "responses": {
                        "200": {
                            "description": "Languages",
                            "content": _json(
                                {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "code": {"type": "string"},
                                            "name": {"type": "string"},
                                            "targets": {"type": "array", "items": {"type": "string"}},
                                        },
                                    },
                                }
                            ),
                        }
                    },
                }
            },
            "/frontend/settings": {
                "get": {
                    "summary": "Limits and defaults for front-ends",
                    "responses": {"200": {"description": "Settings", "content": _json({"type": "object"})}},
                }
            },
            "/translate_file": {
                "post": {
                    "summary": "Translate a document (every format /documents/ takes; waits for the queued job)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file", "source", "target"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "source": {"type": "string"},
                                        "target": {"type": "string"},
                                        "api_key": {"type": "string"},
                                        "nmt_translator": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Where to download the translation",
                            "content": _json(
                                {"type": "object", "properties": {"translatedFileUrl": {"type": "string"}}}
                            ),
                        },
                        **_errors(400, 403, 429, 503),
                    },
                }
            },
            "/download_file/{job_id}/{filename}": {
                "get": {
                    "summary": "Download a translated file",
                    "parameters": JOB_ID
                    + [{"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The file", "content": {"text/plain": {"schema": {"type": "string"}}}},
                        **_errors(404),
                    },
                }
            },
            "/api/translators": {
                "get": {
                    "summary": "Registered translators (name, family, pair, decoding defaults)",
                    "responses": {"200": {"description": "Translators", "content": _json({"type": "object"})}},
                }
            },
            "/api/jobs": {
                "post": {
                    "summary": "Submit an asynchronous translation job (browser session; CSRF token required)",
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["text"],
                                "properties": {
                                    "text": {"type": "string"},
                                    "source_lang": {"type": "string"},
                                    "target_lang": {"type": "string"},
                                    "translator": {"type": "string"},
                                    "options": {"type": "object"},
                                    "refine": {"type": "boolean"},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "201": {"description": "Queued", "content": _json(JOB_RESPONSE)},
                        "400": {"description": "Invalid request", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/jobs/{job_id}": {
                "get": {
                    "summary": "Job status and result",
                    "parameters": JOB_ID,
                    "responses": {
                        "200": {"description": "The job", "content": _json(JOB_RESPONSE)},
                        "404": {"description": "No such job", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/jobs/{job_id}/result": {
                "get": {
                    "summary": "The translated text of a finished job",
                    "parameters": JOB_ID,
                    "responses": {
                        "200": {"description": "Result", "content": _json({"type": "object"})},
                        "404": {"description": "No such job", "content": _json(JOB_ERROR)},
                        "409": {"description": "Not finished", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/jobs/{job_id}/cancel": {
                "post": {
                    "summary": "Cancel a queued or running job",
                    "parameters": JOB_ID,
                    "responses": {
                        "200": {"description": "The job", "content": _json(JOB_RESPONSE)},
                        "404": {"description": "No such job", "content": _json(JOB_ERROR)},
                    },
                }
            },
            # Documents (nmt_site/documents): asynchronous document jobs, session-owned, CSRF-protected.
            "/api/documents": {
                "post": {
                    "summary": "Upload documents to translate (multipart: file (repeatable), source_lang, target_lang, "
                    "translator)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "source_lang": {"type": "string"},
                                        "target_lang": {"type": "string"},
                                        "translator": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {"description": "Queued documents", "content": _json({"type": "object"})},
                        "400": {"description": "Invalid request", "content": _json(JOB_ERROR)},
                        "413": {"description": "Too large", "content": _json(JOB_ERROR)},
                        "415": {"description": "Unsupported format", "content": _json(JOB_ERROR)},
                        "422": {"description": "Unreadable file", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/documents/list": {
                "get": {
                    "summary": "Documents of the caller's browser session",
                    "responses": {"200": {"description": "Documents", "content": _json({"type": "object"})}},
                }
            },
            "/api/documents/{job_id}": {
                "get": {
                    "summary": "Document status: state, progress, queue position, ETA",
                    "parameters": JOB_ID,
                    "responses": {
                        "200": {"description": "The document", "content": _json({"type": "object"})},
                        "404": {"description": "No such document", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/documents/{job_id}/cancel": {
                "post": {
                    "summary": "Cancel a document job",
                    "parameters": JOB_ID,
                    "responses": {
                        "200": {"description": "The document", "content": _json({"type": "object"})},
                        "404": {"description": "No such document", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/documents/{job_id}/download": {
                "get": {
                    "summary": "The translated document (the result of the job)",
                    "parameters": JOB_ID,
                    "responses": {
                        "200": {
                            "description": "The file",
                            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                        },
                        "404": {"description": "No such document", "content": _json(JOB_ERROR)},
                        "409": {"description": "Not done yet or expired", "content": _json(JOB_ERROR)},
                    },
                }
            },
            # Benchmark runs (nmt_site/dashboard).
            "/api/benchmarks": {
                "get": {
                    "summary": "Recent benchmark runs and the choices for a new one",
                    "responses": {"200": {"description": "Runs", "content": _json({"type": "object"})}},
                },
                "post": {
                    "summary": "Queue a benchmark run (JSON: systems, test sets, options)",
                    "requestBody": {"required": True, "content": _json({"type": "object"})},
                    "responses": {
                        "201": {"description": "Queued", "content": _json({"type": "object"})},
                        "400": {"description": "Invalid request", "content": _json(JOB_ERROR)},
                    },
                },
            },
            "/api/benchmarks/{run_id}": {
                "get": {
                    "summary": "Run status and results",
                    "parameters": [{"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The run", "content": _json({"type": "object"})},
                        "404": {"description": "No such run", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/benchmarks/{run_id}/cancel": {
                "post": {
                    "summary": "Cancel a benchmark run",
                    "parameters": [{"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The run", "content": _json({"type": "object"})},
                        "404": {"description": "No such run", "content": _json(JOB_ERROR)},
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": _json({"type": "object"})}},
                }
            },
            "/health": {
                "get": {
                    "summary": "Database, Redis and worker checks",
                    "responses": {
                        "200": {"description": "Healthy", "content": _json({"type": "object"})},
                        "503": {"description": "Unhealthy", "content": _json({"type": "object"})},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (Authorization: Bearer <NMT_METRICS_TOKEN> when configured)",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "403": {"description": "Token missing or wrong", "content": _json(ERROR)},
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "Job": JOB,
            }
        },
    }
