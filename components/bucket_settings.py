"""Settings → Bucket: where verified takes are copied (any S3-compatible service), a connection test, and
the clean-up that drops local copies safely in the bucket.

Only where the bucket is goes to settings.json; the credentials are the standard AWS variables or a
named profile, read by boto3 and never stored, shown or logged here.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from components.text import plain
from dailies.bucket import Bucket, BucketError
from dailies.config import BucketSettings
from dailies.errors import ValidationError
from dailies.studio import Studio


def bucket_section(shared: Studio) -> None:
    """The Bucket section of Settings."""
    st.subheader("Bucket")
    st.caption("Each verified take is copied to the team's S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, "
               "Backblaze B2) right after its download; a failed upload is tried again, and the take stays "
               "complete here meanwhile. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the "
               "named profile, and are never stored by Dailies.")
    now = shared.settings.bucket
    with st.form("bucket_form", border=True):
        with st.container(horizontal=True):
            name = st.text_input("Bucket (empty: none)", now.bucket, key="bucket_name")
            prefix = st.text_input("Prefix", now.prefix, key="bucket_prefix")
        endpoint = st.text_input("Endpoint URL (empty: AWS S3)", now.endpoint_url, key="bucket_endpoint",
                                 placeholder="https://<account>.r2.cloudflarestorage.com")
        with st.container(horizontal=True):
            region = st.text_input("Region", now.region, key="bucket_region", placeholder="us-east-1 / auto")
            profile = st.text_input("AWS profile (empty: the AWS_* variables)", now.profile, key="bucket_profile")
        chosen = BucketSettings(bucket=name.strip(), endpoint_url=endpoint.strip(), prefix=prefix.strip(),
                                region=region.strip(), profile=profile.strip())
        saved = st.form_submit_button("Save the bucket", icon=":material/save:", key="bucket_save")
        tested = st.form_submit_button("Test connection", icon=":material/network_check:", key="bucket_test")
    if saved:
        try:
            shared.save_settings(dataclasses.replace(shared.settings, bucket=chosen))
        except ValidationError as exc:
            st.error(plain(exc), icon=":material/block:")
        else:
            st.success("Saved." if chosen.enabled else "Saved: no bucket.", icon=":material/check:")
    if tested:
        _test(chosen)
    if shared.settings.bucket.enabled:
        st.caption("Takes safely in the bucket (each object's size and digest checked again first) can lose their "
                   "local copy; pages then play them from a presigned URL.")
        if st.button("Drop local copies that are in the bucket", key="bucket_clean_up",
                     icon=":material/cloud_done:"):
            try:
                count = shared.admin.drop_bucketed_copies()
            except (BucketError, ValidationError) as exc:
                st.error(plain(exc), icon=":material/cloud_off:")
            else:
                st.success(f"Dropped the local copies of {count} take(s).", icon=":material/check:")


def _test(chosen: BucketSettings) -> None:
    """A HEAD of the bucket with these settings and the credentials boto3 finds."""
    if not chosen.enabled:
        st.warning("Name a bucket first.", icon=":material/block:")
        return
    try:
        st.success(plain(Bucket(chosen).test_connection()), icon=":material/cloud_done:")
    except BucketError as exc:
        st.error(plain(exc), icon=":material/cloud_off:")
