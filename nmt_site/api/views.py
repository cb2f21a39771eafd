"""LibreTranslate-compatible endpoints plus /metrics and the OpenAPI document. Thin: services do the work."""

from __future__ import annotations

import functools
import hmac
import logging

from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from nmt_site.core.errors import WorkRequestError

from . import files, metrics, openapi, params, services
from .errors import ApiError
from .limits import admit, identify

log = logging.getLogger(__name__)


def api_view(view):
    """Turn ApiError (and the site's request errors) into LibreTranslate's {"error": message} with its status;
    API calls carry no CSRF token."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApiError as exc:
            return JsonResponse({"error": exc.message}, status=exc.status)
        except WorkRequestError as exc:
            return JsonResponse({"error": exc.message}, status=exc.status)

    return wrapper


def _caller(request, data):
    """The caller (403 for a refused key), before anything else is read."""
    key = data.get("api_key")
    return identify(key if isinstance(key, str) else None, request)


@api_view
@require_POST
def translate(request):
    data = params.read(request)
    caller = _caller(request, data)
    q, is_list = params.q_param(data)
    admit(caller, chars=sum(len(t) for t in q))  # LibreTranslate counts the items' characters
    req = services.TranslateRequest(
        q=q,
        is_list=is_list,
        source=params.text_param(data, "source"),
        target=params.text_param(data, "target"),
        fmt=params.text_param(data, "format", required=False) or "text",
        translator=params.text_param(data, "nmt_translator", required=False),
        options=params.options_param(data),
        alternatives=params.int_param(data, "alternatives"),
    )
    return JsonResponse(services.translate(req, caller))


@api_view
@require_POST
def detect(request):
    data = params.read(request)
    caller = _caller(request, data)
    q, _ = params.q_param(data)
    admit(caller, chars=sum(len(t) for t in q), work=False)  # lingua runs in this process: rate and characters
    return JsonResponse(services.detect_language("\n".join(q)), safe=False)


@api_view
@require_http_methods(["GET", "HEAD", "POST"])  # some clients POST (LibreTranslate accepts both)
def languages(request):
    return JsonResponse(services.languages(), safe=False)


@api_view
@require_safe
def frontend_settings(request):
    langs = services.languages()
    source = {"code": "auto", "name": "Auto Detect"}
    first = langs[0]["targets"][0] if langs and langs[0]["targets"] else "en"
    return JsonResponse(
        {
            "apiKeys": True,
            "keyRequired": settings.NMT_API_KEY_REQUIRED,
            "charLimit": settings.NMT_API_CHAR_LIMIT,
            "frontendTimeout": 500,
            "suggestions": False,
            "filesTranslation": True,
            "supportedFilesFormat": files.formats(),
            "language": {"source": source, "target": {"code": first, "name": services.language_name(first)}},
        }
    )


@api_view
@require_POST
def translate_file(request):
    data = params.read(request)
    caller = _caller(request, data)
    admit(caller)  # the request and the caller's active work; the file's characters are counted once read
    file_id = files.translate_file(
        request.FILES.get("file"),
        source=params.text_param(data, "source"),
        target=params.text_param(data, "target"),
        translator=params.text_param(data, "nmt_translator", required=False),
        caller=caller,
        detect=services.detect_language,
        codes=services.source_codes(),
    )
    return JsonResponse({"translatedFileUrl": request.build_absolute_uri(f"/download_file/{file_id}")})


@api_view
@require_safe
def download_file(request, job_id: str, filename: str):
    path, name = files.download(job_id)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name)


@require_safe
def openapi_document(request):
    return JsonResponse(openapi.document(), json_dumps_params={"indent": 1})


@require_safe
def metrics_view(request):
    token = settings.NMT_METRICS_TOKEN
    if token:
        # Only the header: a token in the query string would land in every access log on the way.
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = JsonResponse({"error": "Metrics need the configured token: Authorization: Bearer <token>."})
            response.status_code = 401
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
