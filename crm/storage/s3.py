"""S3Storage: the files in S3-compatible object storage (AWS S3, MinIO, Ceph, OSS …), on boto3
(the optional extra `.[s3]`, imported only when CRM_STORAGE_URL names a bucket).

CRM_STORAGE_URL=s3://bucket/prefix puts key K at object `prefix/K`. CRM_S3_ENDPOINT_URL (a
MinIO or another provider's address), CRM_S3_REGION, CRM_S3_ADDRESSING (path or virtual, else
boto3's choice); the credentials come from boto3's usual places (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role …), never from the app's configuration."""
import os
import secrets
from urllib.parse import urlparse

from flask import request, send_file

from crm.storage.base import KEY_RE, NotFound, Storage, validate_key, validate_prefix

MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix ending with "/" or "") of s3://bucket/prefix."""
    parts = urlparse(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"CRM_STORAGE_URL must be s3://bucket/prefix, not {url!r}")
    prefix = parts.path.strip("/")
    if prefix:
        validate_key(prefix)
    return parts.netloc, f"{prefix}/" if prefix else ""


class S3Storage(Storage):
    def __init__(self, bucket: str, prefix: str = "", endpoint_url=None, region=None, addressing=None):
        import boto3  # the optional extra: only an app configured for S3 needs it
        from botocore.config import Config
        self.bucket, self.prefix = bucket, prefix
        s3 = {"addressing_style": addressing} if addressing in ("path", "virtual") else {}
        session = boto3.session.Session()
        self.client = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=Config(
            connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}, s3=s3))
        # The readiness check answers in seconds: one attempt, short timeouts.
        self.probe_client = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=Config(
            connect_timeout=2, read_timeout=5, retries={"max_attempts": 1, "mode": "standard"}, s3=s3))

    def __repr__(self):
        return f"S3Storage({self.bucket!r}, {self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    @staticmethod
    def _missing(exc) -> bool:
        from botocore.exceptions import ClientError
        return isinstance(exc, ClientError) and str(exc.response.get("Error", {}).get("Code")) in MISSING

    def put(self, key, data):
        name = self._name(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data))
            return len(data)
        self.client.upload_fileobj(data, self.bucket, name)  # multipart when large; whole or absent
        return self.client.head_object(Bucket=self.bucket, Key=name)["ContentLength"]

    def put_file(self, key, path, move=False):
        name = self._name(key)
        self.client.upload_file(str(path), self.bucket, name)
        size = os.path.getsize(path)
        if move:
            os.unlink(path)
        return size

    def _get(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if self._missing(exc):
                raise NotFound(key) from None
            raise

    def open(self, key):
        return self._get(key)["Body"]

    def size(self, key):
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]
        except Exception as exc:
            if self._missing(exc):
                return None
            raise

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self, prefix=""):
        validate_prefix(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(self.prefix):]
                if KEY_RE.fullmatch(key):  # not a readiness probe left by a killed process
                    yield key

    def check(self):
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
        probe = f"{self.prefix}.readyz-{secrets.token_hex(8)}"
        try:
            self.probe_client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            self.probe_client.delete_object(Bucket=self.bucket, Key=probe)
        except NoCredentialsError:
            return "没有对象存储的访问密钥"
        except EndpointConnectionError:
            return "无法连接对象存储"
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code == "NoSuchBucket":
                return "存储桶不存在"
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return "无权写入存储桶"
            return f"对象存储拒绝写入（{code[:40]}）"
        except BotoCoreError as exc:
            return f"无法连接对象存储（{type(exc).__name__}）"
        return None

    def response(self, key, *, mimetype, max_age, as_attachment=False, download_name=None):
        try:
            found = self._get(key)
        except NotFound:
            return None
        body, size = found["Body"], found["ContentLength"]
        # Streamed from the object's body a chunk at a time; the body is closed with the response.
        rv = send_file(body, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name,
                       conditional=False, etag=found["ETag"].strip('"'), last_modified=found["LastModified"],
                       max_age=max_age)
        rv.content_length = size
        try:
            rv = rv.make_conditional(request.environ, accept_ranges=True, complete_length=size)
        except Exception:  # a Range past the end (416)
            body.close()
            raise
        if rv.status_code == 304:
            body.close()
        return rv
