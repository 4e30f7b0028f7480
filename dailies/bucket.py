"""The team's bucket: each verified take copied to S3-compatible storage, played back by presigned URL.

Any S3-compatible service (AWS S3, Cloudflare R2, MinIO, Backblaze B2) through `boto3`. Where the
bucket is lives in Settings (`BucketSettings`); the credentials come from the standard AWS variables
or a named profile and are never stored by Dailies. A file is uploaded with boto3's managed transfer
(multipart above a threshold, parts sent in parallel) and a SHA-256 checksum the service verifies on
arrival; then the object is read back (`HEAD`) and its size and our digest compared before its key
and ETag are recorded on the job. Only a file recorded that way counts as "safely in the bucket",
and only such a file's local copy may be dropped by the clean-up. The local copy is never touched
by an upload, whether it works or not.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from dailies.config import BucketSettings
from dailies.errors import DailiesError
from dailies.files import replaced_path
from dailies.jobs import FileRecord, Job
from dailies.media import MediaLibrary

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

# boto3 is imported where a bucket is used, not with this module: it takes a tenth of a second, and
# the app's start (which imports this module) needs none of it unless a bucket is configured.

MULTIPART_THRESHOLD = 16 * 2**20
"""Files above this go up in parts (8 MiB each), so a large take neither fails whole nor holds one connection."""
PRESIGN_SECONDS = 6 * 3600


GCS_XML_API_HOST = "storage.googleapis.com"
"""Google Cloud Storage's S3-compatible (XML) API: a team bucket at this endpoint is a Cloud Storage bucket."""


def cloud_storage_uri(settings: BucketSettings, record: FileRecord) -> str | None:
    """`gs://<bucket>/<key>` of a file checked safe in the team's bucket when that bucket is Google Cloud
    Storage (endpoint `https://storage.googleapis.com`, with HMAC keys), else None. What Veo on Vertex AI
    takes as a video to extend."""
    from urllib.parse import urlsplit

    host = urlsplit(settings.endpoint_url.strip()).hostname or ""
    if not settings.enabled or host != GCS_XML_API_HOST or not record.in_bucket:
        return None
    return f"gs://{settings.bucket.strip()}/{record.bucket_key}"


class BucketError(DailiesError):
    """The bucket could not be reached or refused us; the message says which, in words a person can act on."""


def _explain(exc: Exception, doing: str) -> BucketError:
    """A boto error as one clear sentence (never the credentials: boto's messages do not carry them)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, Boto3Error) and isinstance(exc.__cause__ or exc.__context__, ClientError | BotoCoreError):
        exc = exc.__cause__ or exc.__context__  # the managed transfer wraps the service's answer
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
        message = str(error.get("Message") or "")
        if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidToken",
                    "ExpiredToken"}:
            return BucketError(f"The bucket refused {doing}: {code} ({message or 'access denied'}). Check the "
                               "AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile).")
        if code in {"NoSuchBucket", "404"}:
            return BucketError(f"The bucket refused {doing}: it does not exist ({code}).")
        return BucketError(f"The bucket refused {doing}: {code} {message}".strip())
    if isinstance(exc, BotoCoreError):
        return BucketError(f"The bucket could not be reached for {doing}: {exc}")
    return BucketError(f"{doing.capitalize()} failed: {exc}")


class Bucket:
    """One configured bucket: upload, check, presign, delete. Safe to share between threads (boto3 clients are)."""

    def __init__(self, settings: BucketSettings, *, transfer: TransferConfig | None = None) -> None:
        if not settings.enabled:
            raise BucketError("No bucket is configured.")
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        self.settings = settings
        try:
            session = boto3.Session(profile_name=settings.profile or None, region_name=settings.region or None)
        except BotoCoreError as exc:  # an unknown profile name
            raise _explain(exc, "the profile") from exc
        self.client = session.client(
            "s3",
            endpoint_url=settings.endpoint_url or None,
            config=Config(
                signature_version="s3v4",  # what R2, MinIO and current AWS regions accept for presigned URLs
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 2, "mode": "standard"},  # the tracker retries beyond this, with backoff
                s3={"addressing_style": "path"} if settings.endpoint_url else None,
            ),
        )
        self.transfer = transfer or TransferConfig(multipart_threshold=MULTIPART_THRESHOLD,
                                                   multipart_chunksize=8 * 2**20, max_concurrency=4)

    @property
    def name(self) -> str:
        return self.settings.bucket

    def key_for(self, record: FileRecord) -> str:
        """`<prefix><job id>/<file>`: the media folder's layout, so a key says which take it belongs to."""
        prefix = self.settings.prefix.strip().lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return prefix + record.path

    def test_connection(self) -> str:
        """Whether the bucket answers to these credentials (a `HEAD` of the bucket); a line for Settings."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.name)
        except (ClientError, BotoCoreError) as exc:
            raise _explain(exc, "the connection test") from exc
        return f"Bucket {self.name} answers and accepts these credentials."

    def upload(self, path: Path, record: FileRecord) -> FileRecord:
        """Copy one verified file up and check it arrived whole; the record with its key and ETag."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.key_for(record)
        extra = {
            "ChecksumAlgorithm": "SHA256",  # the service checks each part's digest as it arrives
            "ContentType": record.content_type or "application/octet-stream",
            "Metadata": {"sha256": record.sha256},
        }
        try:
            self.client.upload_file(str(path), self.name, key, ExtraArgs=extra, Config=self.transfer)
            head = self.client.head_object(Bucket=self.name, Key=key, ChecksumMode="ENABLED")
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise _explain(exc, f"the upload of {record.path}") from exc
        problem = _mismatch(head, record)
        if problem:
            raise BucketError(f"{record.path} arrived in the bucket damaged ({problem}); it will be sent again.")
        return dataclasses.replace(record, bucket_key=key, bucket_etag=str(head.get("ETag", "")).strip('"'))

    def holds(self, record: FileRecord) -> bool:
        """The object recorded for this file is in the bucket now, of its size and digest (before a clean-up)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not record.in_bucket:
            return False
        try:
            head = self.client.head_object(Bucket=self.name, Key=str(record.bucket_key), ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise _explain(exc, "the check of a file") from exc
        except BotoCoreError as exc:
            raise _explain(exc, "the check of a file") from exc
        return not _mismatch(head, record) and str(head.get("ETag", "")).strip('"') == record.bucket_etag

    def presigned_url(self, record: FileRecord, seconds: int = PRESIGN_SECONDS) -> str | None:
        """A time-limited GET URL for a file in the bucket (made here, no request sent); None when not uploaded."""
        if not record.in_bucket:
            return None
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.name, "Key": record.bucket_key}, ExpiresIn=seconds
        )


    def download(self, record: FileRecord, dest: Path) -> None:
        """Fetch a file's object to `dest` (via a temporary file beside it), checked against the record's size
        and digest before it takes `dest`'s name: a server that did not make a take plays it from here."""
        from botocore.exceptions import BotoCoreError, ClientError

        from dailies.media import sha256_file

        if not record.in_bucket:
            raise BucketError(f"{record.path} is not in the bucket.")
        with replaced_path(dest) as tmp:
            try:
                self.client.download_file(self.name, str(record.bucket_key), str(tmp), Config=self.transfer)
            except (ClientError, BotoCoreError) as exc:
                raise _explain(exc, f"the download of {record.path}") from exc
            if tmp.stat().st_size != record.size or sha256_file(tmp) != record.sha256:
                raise BucketError(f"{record.path} in the bucket is not the file that was recorded; not played.")


def fetch_from_bucket(bucket: Bucket, media: MediaLibrary, record: FileRecord) -> Path:
    """The local copy of a take's file, fetched from the team's bucket when this server's folder lacks it (the
    take was made by another server sharing the database); its path in the media folder."""
    path = media.resolve(record.path)
    if not media.verify(record):
        bucket.download(record, path)
    return path


def _mismatch(head: dict, record: FileRecord) -> str | None:
    """Why the object `head` describes is not our file, or None when size and digest agree."""
    if int(head.get("ContentLength", -1)) != record.size:
        return f"{head.get('ContentLength')} bytes, not {record.size}"
    if (head.get("Metadata") or {}).get("sha256") != record.sha256:
        return "its recorded digest differs"
    whole = head.get("ChecksumSHA256")
    # A single-part object's checksum is the file's own SHA-256; a multipart one's (ETag "...-N") is of its
    # parts' digests, each checked by the service as it arrived.
    single = "-" not in str(head.get("ETag", ""))
    if whole and single and "-" not in str(whole) and base64.b64decode(whole).hex() != record.sha256:
        return "its SHA-256 differs"
    return None


def upload_job(bucket: Bucket, media: MediaLibrary, job: Job) -> dict[str, FileRecord]:
    """Upload each file of a job not in the bucket yet; the job's file records, updated. Raises at the first failure."""
    files = dict(job.files)
    for variant, record in job.files.items():
        if record.in_bucket:
            continue
        files[variant] = bucket.upload(media.resolve(record.path), record)
    return files


def needs_upload(job: Job, media: MediaLibrary) -> bool:
    """A completed job with a local file not yet in the bucket."""
    return any(not rec.in_bucket and media.present(rec) for rec in job.files.values())


def drop_local_copies(bucket: Bucket, media: MediaLibrary, jobs: list[Job]) -> list[str]:
    """Delete the local files of jobs whose every file is checked to be in the bucket; their ids.

    The records stay (key, ETag, size, digest): pages then play from a presigned URL, and a file
    whose object is missing or differs keeps its local copy.
    """
    dropped = []
    for job in jobs:
        local = [rec for rec in job.files.values() if media.present(rec)]
        if not local or not job.files or not all(bucket.holds(rec) for rec in job.files.values()):
            continue
        for rec in local:
            media.resolve(rec.path).unlink(missing_ok=True)
        dropped.append(job.id)
    return dropped
