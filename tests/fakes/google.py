"""A fake of Vertex AI's Veo endpoints in a Google Cloud project, as `google-genai` 3.3.0 speaks them.

Every behaviour here is the service's as documented or as the SDK shows it; where neither says, this
fake says so and the adapter's tests cover both answers.

Sources:
- [SDK] `.venv/.../google/genai/_api_client.py` (`BaseApiClient.__init__`, `_build_request`,
  `_request_once`): in project mode the path is `v1beta1/projects/{p}/locations/{l}/...` and every request
  carries `Authorization: Bearer <token>` from google-auth (plus `x-goog-user-project` when the
  credentials name a quota project); `models.py` `_generate_videos`, `_GenerateVideosConfig_to_vertex`,
  `_Video_to_vertex` (the body); `operations.py` `get` -> `_fetch_predict_videos_operation` (polling).
- [README] the SDK's README, "Veo": "Currently, only Gemini Enterprise Agent Platform supports video
  generation"; for extension "Input video must be in GCS for Gemini Enterprise Agent Platform".
- [MODEL] https://cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate : 16:9 and 9:16,
  720p and 1080p ("1080, except for video extension"), 4/6/8 s, "Maximum API requests per minute per
  project: 10", up to 4 videos a request.
- [REST] https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation :
  `resolution` defaults to 720p; `storageUri` sends the result to Cloud Storage, else it comes back inline
  as `bytesBase64Encoded`.
- [STATUS] https://cloud.google.com/apis/design/errors : errors are `google.rpc.Status` as JSON
  `{"error": {"code", "message", "status", "details"?}}`; quota is 429 RESOURCE_EXHAUSTED; a wait may be
  given as a `google.rpc.RetryInfo` detail `{"@type": ".../google.rpc.RetryInfo", "retryDelay": "12s"}`.
- [OAUTH] https://developers.google.com/identity/protocols/oauth2/service-account#httprest : a service
  account signs a JWT (RS256; `iss` its email, `aud` the token URI, `scope`) and posts it as
  `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>` to its key file's `token_uri`;
  the answer is `{"access_token", "expires_in", "token_type": "Bearer"}`.

Wire format:
- `POST /token` (form): the JWT-bearer exchange above, checked against `service_accounts` (email -> PEM
  public key) -> an access token this fake accepts.
- `POST /v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:predictLongRunning`
  `{"instances": [{"prompt", "image"?: {"bytesBase64Encoded", "mimeType"}, "video"?: {"gcsUri", "mimeType"}}],
    "parameters": {"sampleCount", "aspectRatio", "resolution"?, "durationSeconds", "generateAudio"?, "seed"?,
    "storageUri"?}}` -> `{"name": "projects/{p}/locations/{l}/publishers/google/models/{m}/operations/{id}"}`.
- `POST /v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:fetchPredictOperation`
  `{"operationName": name}` -> `{"name", "done": false}` while rendering, then `{"name", "done": true,
  "response": {"@type": "...GenerateVideoResponse", "videos": [{"bytesBase64Encoded" | "gcsUri", "mimeType"}],
  "raiMediaFilteredCount"}}`, or `{"name", "done": true, "error": {"code", "message"}}`. A name of another
  project, or without the `projects/...` prefix, is 404 NOT_FOUND.
- Subject references: `instances[0].referenceImages: [{"image": {"bytesBase64Encoded", "mimeType"},
  "referenceType": "asset"|"style"}]` (the SDK's `_VideoGenerationReferenceImage_to_vertex`), checked as
  `_references_refused` says (model, count, type, PNG or JPEG, not with an opening frame): otherwise 400
  INVALID_ARGUMENT. Unknown, so not modelled: whether Vertex takes references at every duration and ratio
  (the Gemini API's Veo page has asked for 8 s with them); a refusal there would reach the take as Vertex's
  own 400 message, with nothing made.
- No cancel, delete or list.

Unknown, and so switchable here: whether Vertex's 429 carries a Retry-After header or a RetryInfo detail
(`quota_hint`: "none", "header", "retry_info"); whether an inline (bytes) source video for an extension is
refused or accepted (`inline_video`: "refused", as the README implies, or "accepted"); how long an
inline result stays fetchable (not documented; this fake keeps it). An API key (express mode) reaching
this fake is answered 400, as reported in googleapis/java-genai#570; the adapter never sends one.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from tests.fakes._server import Answer, FakeJob, FakeVendor, shape_of

PROJECT = "fake-project"
LOCATION = "us-central1"
TOKEN = "ya29.fake-static-token"
"""An access token this fake accepts without an exchange (for `google.oauth2.credentials.Credentials`)."""
QUOTA_MESSAGE = ("Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base "
                 "model: {model}. Please submit a quota increase request. "
                 "https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.")
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""What google-auth 2.x signs as the JWT's `aud` whatever the key file's `token_uri` (google/oauth2/
service_account.py, `_GOOGLE_OAUTH2_TOKEN_ENDPOINT`), and what Google's endpoint expects."""
REFERENCE_MODELS = ("veo-3.1-generate-001", "veo-3.1-generate-preview")
"""The models this fake takes `referenceImages` from ([MODEL]: Veo 3.1's reference-to-video)."""
_MODEL_PATH = re.compile(r"/v1beta1/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):(\w+)")


class FakeVertexVeo(FakeVendor):
    storage_to_gcs = False
    filter_next = False
    """The next job finishes with no video, filtered by Responsible AI."""
    quota_per_minute = 10
    quota_hint = "none"
    """What a 429 carries: "none", "header" (Retry-After) or "retry_info" (a google.rpc.RetryInfo detail)."""
    inline_video = "refused"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        self.service_accounts: dict[str, bytes] = {}
        """Service-account email -> its public key (PEM), for checking signed token requests."""
        self.tokens: set[str] = {TOKEN}
        self.exchanges: list[dict[str, Any]] = []
        """The claims of each accepted token exchange."""
        self._creates: dict[str, list[float]] = {}

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        lowered = {k.lower(): v for k, v in headers.items()}
        if method == "POST" and path == "/token":
            return self._exchange(body)
        if "x-goog-api-key" in lowered:
            return _error(400, "API keys are not supported by this API. Expected OAuth2 access token or other "
                               "authentication credentials that assert a principal.", "INVALID_ARGUMENT")
        if lowered.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return _error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                               "cookie or other valid authentication credential.", "UNAUTHENTICATED")
        match = _MODEL_PATH.fullmatch(path)
        if method != "POST" or match is None:
            return _error(404, f"no route {method} {path}", "NOT_FOUND")
        project, location, model, verb = match.groups()
        if project != PROJECT:
            return _error(403, f"Permission denied on resource project {project}.", "PERMISSION_DENIED")
        if verb == "predictLongRunning":
            return self._create(project, location, model, body or {})
        if verb == "fetchPredictOperation":
            name = str((body or {}).get("operationName", ""))
            resource = f"projects/{project}/locations/{location}/publishers/google/models/{model}"
            job = self.jobs.get(name.rpartition("/operations/")[2])
            if job is None or not name.startswith(resource + "/operations/"):
                return _error(404, f"Operation {name} not found.", "NOT_FOUND")
            return Answer(200, self._operation(self.advance(job), name))
        return _error(404, f"no route {method} {path}", "NOT_FOUND")

    # -- auth --------------------------------------------------------------------------------------

    def _exchange(self, body: Any) -> Answer:
        from google.auth import jwt

        form = parse_qs(body.decode() if isinstance(body, bytes) else str(body or ""))
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return Answer(400, {"error": "unsupported_grant_type"})
        assertion = (form.get("assertion") or [""])[0]
        try:
            claims = jwt.decode(assertion, verify=False)
            key = self.service_accounts[claims["iss"]]
            claims = jwt.decode(assertion, certs=key, audience=GOOGLE_TOKEN_AUDIENCE)
        except (KeyError, ValueError) as exc:
            return Answer(400, {"error": "invalid_grant", "error_description": f"Invalid JWT Signature. ({exc})"})
        token = "ya29." + secrets.token_urlsafe(16)
        with self.lock:
            self.tokens.add(token)
            self.exchanges.append(claims)
        return Answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # -- videos ------------------------------------------------------------------------------------

    def _create(self, project: str, location: str, model: str, body: dict[str, Any]) -> Answer:
        instance = (body.get("instances") or [{}])[0]
        parameters = body.get("parameters") or {}
        if not instance.get("prompt") and not instance.get("image"):
            return _error(400, "A prompt or an image is required.", "INVALID_ARGUMENT")
        video = instance.get("video")
        if video is not None and "gcsUri" not in video and self.inline_video == "refused":
            return _error(400, "Input video must be a Cloud Storage URI (gcsUri).", "INVALID_ARGUMENT")
        if refused := self._references_refused(model, instance):
            return refused
        if refused := self._over_quota(project, model):
            return refused
        parameters.setdefault("resolution", "720p")  # [REST]: the default
        job = FakeJob(self.new_id("op"), model, {"instance": instance, "parameters": parameters},
                      shape_of(str(parameters.get("aspectRatio", "16:9"))))
        if self.filter_next:
            job.fail_with, self.filter_next = "rai", False
        lost = self.add_job(job)
        name = f"projects/{project}/locations/{location}/publishers/google/models/{model}/operations/{job.id}"
        return lost or Answer(200, {"name": name})

    def _references_refused(self, model: str, instance: dict[str, Any]) -> Answer | None:
        """[SDK] `GenerateVideosConfig.reference_images`: a prompt is required, "the image, video, or last_frame
        field are not supported" with them, each has a type, "up to 3 asset images *or* 1 style image";
        [MODEL] reference-to-video is a Veo 3.1 feature (the Fast model's support is not stated: refused here,
        as the adapter never sends it)."""
        references = instance.get("referenceImages")
        if references is None:
            return None
        if model not in REFERENCE_MODELS:
            return _error(400, f"Reference images are not supported for model {model}.", "INVALID_ARGUMENT")
        if instance.get("image") or instance.get("video") or instance.get("lastFrame") or not instance.get("prompt"):
            return _error(400, "referenceImages cannot be combined with image, video or lastFrame, and need a prompt.",
                          "INVALID_ARGUMENT")
        if any((ref.get("image") or {}).get("mimeType") not in ("image/png", "image/jpeg") for ref in references):
            return _error(400, "Reference images must be image/png or image/jpeg.", "INVALID_ARGUMENT")
        kinds = [str(ref.get("referenceType", "")).lower() for ref in references]
        if not all(ref.get("image", {}).get("bytesBase64Encoded") or ref.get("image", {}).get("gcsUri")
                   for ref in references) or any(kind not in ("asset", "style") for kind in kinds):
            return _error(400, "Each reference image needs an image and a referenceType (asset or style).",
                          "INVALID_ARGUMENT")
        if kinds.count("asset") > 3 or kinds.count("style") > 1 or ("asset" in kinds and "style" in kinds):
            return _error(400, "Up to 3 asset reference images or 1 style reference image are supported.",
                          "INVALID_ARGUMENT")
        return None

    def _over_quota(self, project: str, model: str) -> Answer | None:
        """[MODEL]: 10 requests a minute per project; the one past it is 429 RESOURCE_EXHAUSTED."""
        now = self.clock()
        with self.lock:
            sent = [t for t in self._creates.get(project, []) if now - t < 60.0]
            if len(sent) >= self.quota_per_minute:
                self._creates[project] = sent
                wait = 60.0 - (now - sent[0]) if sent else 60.0
                error: dict[str, Any] = {"code": 429, "message": QUOTA_MESSAGE.format(model=model),
                                         "status": "RESOURCE_EXHAUSTED"}
                headers = {}
                if self.quota_hint == "header":
                    headers["Retry-After"] = str(int(wait) + 1)
                elif self.quota_hint == "retry_info":
                    error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                         "retryDelay": f"{wait:.0f}s"}]
                return Answer(429, {"error": error}, headers=headers)
            self._creates[project] = [*sent, now]
        return None

    def _operation(self, job: FakeJob, name: str) -> dict[str, Any]:
        if job.state in ("queued", "running"):
            return {"name": name, "done": False}
        if job.fail_with == "rai":
            return {"name": name, "done": True, "response": {"videos": [], "raiMediaFilteredCount": 1,
                                                             "raiMediaFilteredReasons": ["celebrity likeness"]}}
        if job.state == "failed":
            return {"name": name, "done": True, "error": {"code": 3, "message": job.fail_with}}
        storage = job.input["parameters"].get("storageUri")
        if self.storage_to_gcs or storage:
            bucket = str(storage or "gs://fake-bucket/").rstrip("/")
            video = {"gcsUri": f"{bucket}/{job.id}/sample_0.mp4", "mimeType": "video/mp4"}
        else:
            video = {"bytesBase64Encoded": base64.b64encode(self.video_bytes(job)).decode(), "mimeType": "video/mp4"}
        return {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            "videos": [video], "raiMediaFilteredCount": 0}}


def _error(code: int, message: str, status: str) -> Answer:
    return Answer(code, {"error": {"code": code, "message": message, "status": status}})


def service_account_file(fake: FakeVertexVeo, folder: Any, email: str = "dailies@fake-project.iam.gserviceaccount.com"
                         ) -> Any:
    """A service-account JSON key file, as the Cloud console downloads it, whose key is made here and known to
    `fake`, and whose `token_uri` is the fake's: google-auth signs a real JWT and exchanges it there."""
    import json
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    fake.service_accounts[email] = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = Path(folder) / "veo-service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "0123456789abcdef",
        "private_key": private, "client_email": email, "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": f"{fake.base_url}/token",
    }))
    return path
