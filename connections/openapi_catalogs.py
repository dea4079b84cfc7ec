"""OpenAPI paths and schemas for the local model catalogs, downloads and embedding models."""

from __future__ import annotations

from connections.api_schemas import BOOLEAN, INTEGER, STRING, STRINGS, WHEN, nullable, ref
from connections.models import JobKind, JobStatus
from koda.openapi import error_responses, json_request, json_response, strict


def _path(name: str, description: str, examples: list[str]) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "examples": examples},
    }


def schemas() -> dict:
    return {
        "DownloadJob": strict(
            {
                "id": {"type": "string", "format": "uuid"},
                "provider_id": STRING,
                "kind": {"type": "string", "enum": [k.value for k in JobKind]},
                "target": STRING,
                "purpose": nullable("string"),
                "status": {"type": "string", "enum": [s.value for s in JobStatus]},
                "stage": STRING,
                "bytes_done": INTEGER,
                "bytes_total": nullable("integer"),
                "percent": nullable("number"),
                "bytes_per_second": nullable("number"),
                "error": nullable("string"),
                "cancel_requested": BOOLEAN,
                "created_at": {"type": "string", "format": "date-time"},
                "started_at": WHEN,
                "finished_at": WHEN,
            }
        ),
        "CatalogFile": {
            **strict(
                {
                    "name": STRING,
                    "file": STRING,
                    "size": INTEGER,
                    "sha256": STRING,
                    "notes": STRINGS,
                    "state": {
                        "type": "string",
                        "enum": ["installed", "partial", "downloading", "available"],
                    },
                    "selected": BOOLEAN,
                    "job": {"oneOf": [ref("DownloadJob"), {"type": "null"}]},
                    "english_only": BOOLEAN,
                    "quantized": BOOLEAN,
                },
                optional=("english_only", "quantized"),
            )
        },
        "EmbeddingModel": strict(
            {
                "id": {"type": "string", "examples": ["ollama:nomic-embed-text:latest"]},
                "provider_id": STRING,
                "provider": STRING,
                "model": STRING,
                "dimensions": nullable("integer"),
                "local": BOOLEAN,
                "selected": BOOLEAN,
            }
        ),
    }


def paths() -> dict:
    job = json_response(strict({"job": ref("DownloadJob")}), "Queued: follow the job")
    with_verification = json_response(
        strict({"connection": ref("ConnectionState"), "verification": ref("Verification")})
    )
    deleted = json_response(strict({"deleted": STRING}))
    variant = _path("variant", "A whisper.cpp model variant", ["base.en", "large-v3-turbo"])
    return {
        "/providers/whispercpp/models": {
            "get": {
                "summary": "whisper.cpp model variants: installed, downloading or available",
                "operationId": "whisperModels",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "models": {"type": "array", "items": ref("CatalogFile")},
                                "selected": nullable("string"),
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/whispercpp/models/{variant}/download": {
            "parameters": [variant],
            "post": {
                "summary": "Download a variant (a background job; 202 with the job)",
                "operationId": "whisperDownload",
                "responses": {"202": job, **error_responses(404, 409)},
            },
        },
        "/providers/whispercpp/models/{variant}/select": {
            "parameters": [variant],
            "post": {
                "summary": "Use a downloaded variant (verified: present, checksum-valid)",
                "operationId": "whisperSelect",
                "requestBody": {
                    **json_request({"runtime_path": {**STRING, "maxLength": 4096}}, []),
                    "required": False,
                },
                "responses": {"200": with_verification, **error_responses(404, 422)},
            },
        },
        "/providers/whispercpp/models/{variant}": {
            "parameters": [variant],
            "delete": {
                "summary": "Delete a downloaded variant (refused while downloading or selected)",
                "operationId": "whisperDelete",
                "responses": {"200": deleted, **error_responses(404, 409)},
            },
        },
        "/providers/kokoro/model": {
            "get": {
                "summary": "Kokoro model files and the voices file, and what is selected",
                "operationId": "kokoroModel",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "models": {"type": "array", "items": ref("CatalogFile")},
                                "voices_file": ref("CatalogFile"),
                                "selected": {
                                    "oneOf": [
                                        strict(
                                            {
                                                "model_file": nullable("string"),
                                                "voice": nullable("string"),
                                            }
                                        ),
                                        {"type": "null"},
                                    ]
                                },
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/kokoro/model/download": {
            "post": {
                "summary": "Download a Kokoro model file (default kokoro-v1.0.onnx)",
                "operationId": "kokoroModelDownload",
                "requestBody": {
                    **json_request({"file": {**STRING, "examples": ["kokoro-v1.0.int8.onnx"]}}, []),
                    "required": False,
                },
                "responses": {"202": job, **error_responses(404, 409)},
            }
        },
        "/providers/kokoro/model/select": {
            "post": {
                "summary": "Use a downloaded model file with a voice (verified first)",
                "operationId": "kokoroModelSelect",
                "requestBody": json_request(
                    {"model_file": STRING, "voice": STRING}, ["model_file", "voice"]
                ),
                "responses": {"200": with_verification, **error_responses(422)},
            }
        },
        "/providers/kokoro/voices": {
            "get": {
                "summary": "The voices in the downloaded voices file",
                "operationId": "kokoroVoices",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "voices": {
                                    "type": "array",
                                    "items": strict(
                                        {"id": STRING, "language": STRING, "gender": STRING}
                                    ),
                                },
                                "voices_file": ref("CatalogFile"),
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/kokoro/voices/{voice}/download": {
            "parameters": [_path("voice", "A Kokoro voice", ["af_heart", "bm_george"])],
            "post": {
                "summary": "Make a voice available: download the voices file that holds it",
                "operationId": "kokoroVoiceDownload",
                "responses": {
                    "202": job,
                    "200": json_response(
                        strict(
                            {
                                "voice": strict(
                                    {"id": STRING, "language": STRING, "gender": STRING}
                                ),
                                "installed": BOOLEAN,
                                "job": {"type": "null"},
                            }
                        ),
                        "Already here",
                    ),
                    **error_responses(404, 409),
                },
            },
        },
        "/providers/ollama/models": {
            "get": {
                "summary": "Models installed in the connected Ollama, and recent pulls",
                "operationId": "ollamaModels",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "provider_id": STRING,
                                "connected": BOOLEAN,
                                "default_model": nullable("string"),
                                "models": {"type": "array", "items": ref("Model")},
                                "pulls": {"type": "array", "items": ref("DownloadJob")},
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/ollama/models/pull": {
            "post": {
                "summary": "Pull a model into the connected Ollama (a background job)",
                "operationId": "ollamaPull",
                "requestBody": json_request(
                    {"name": {**STRING, "maxLength": 200, "examples": ["llama3.2"]}}, ["name"]
                ),
                "responses": {"202": job, **error_responses(409)},
            }
        },
        "/providers/ollama/models/{name}": {
            "parameters": [_path("name", "An installed Ollama model", ["llama3.2:latest"])],
            "delete": {
                "summary": "Delete a model from the connected Ollama",
                "operationId": "ollamaDelete",
                "responses": {
                    "200": json_response(
                        strict({"deleted": STRING, "connection": ref("ConnectionState")})
                    ),
                    **error_responses(409, 502),
                },
            },
        },
        "/providers/downloads/active": {
            "get": {
                "summary": "Downloads and pulls queued or running",
                "operationId": "downloadsActive",
                "responses": {
                    "200": json_response(
                        strict({"jobs": {"type": "array", "items": ref("DownloadJob")}})
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/downloads/{job_id}": {
            "parameters": [_path("job_id", "A download job id", [])],
            "get": {
                "summary": "A download's progress",
                "operationId": "downloadGet",
                "responses": {
                    "200": json_response(strict({"job": ref("DownloadJob")})),
                    **error_responses(404),
                },
            },
        },
        "/providers/downloads/{job_id}/cancel": {
            "parameters": [_path("job_id", "A download job id", [])],
            "post": {
                "summary": "Cancel a queued or running download (its partial file is removed)",
                "operationId": "downloadCancel",
                "responses": {
                    "200": json_response(strict({"job": ref("DownloadJob")})),
                    **error_responses(404, 409),
                },
            },
        },
        "/providers/embedding/models": {
            "get": {
                "summary": "Embedding models of every verified connection, and the default",
                "operationId": "embeddingModels",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "models": {"type": "array", "items": ref("EmbeddingModel")},
                                "selected": nullable("string"),
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/embedding/models/{model_id}/select": {
            "parameters": [
                _path("model_id", "`<provider id>:<model id>`", ["ollama:nomic-embed-text:latest"])
            ],
            "post": {
                "summary": "Make an embedding model the default",
                "operationId": "embeddingSelect",
                "responses": {
                    "200": json_response(
                        strict({"selected": STRING, "model": ref("EmbeddingModel")})
                    ),
                    **error_responses(404),
                },
            },
        },
    }
