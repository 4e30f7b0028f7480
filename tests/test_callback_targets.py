"""Callbacks go only to public https hosts, or to hosts the team names in DAILIES_CALLBACK_ALLOW_HOSTS.

Refused at order time (nothing sent, nothing stored), checked again at send time (the take then says
"refused" and why, and nothing is POSTed), sent to the address that was checked, never redirected.
Positive paths use a real receiver on loopback, named in the allow-list as a team names its own CMS.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from hook_receiver import hook_receiver
from until import wait_until

from dailies.jobs import Job
from dailies.pipeline import CALLBACK_SCHEDULE, CALLBACK_TABLE, Pipeline, body_digest
from dailies.pipeline.callbacks import ALLOW_HOSTS_VAR, CallbackPolicy, CallbackRefused, Target, post, why_not_public

SECRET = "whsec_" + "cGlwZWxpbmUtY2FsbGJhY2stc2VjcmV0LTAxMjM0NTY="
PUBLIC = "93.184.216.34"


def file_url(job: Job, variant: str) -> str:
    return f"https://dailies.example/api/v1/takes/{job.id}/files/{variant}"


def order(pipeline: Pipeline, fields: dict):
    return pipeline.order(pipeline.parse(fields), None, body_digest(fields, None))


def sent_until(pipeline: Pipeline, job: Job, state: str) -> dict:
    """Send the pipeline's callbacks until the job's is in `state` (within 90 s); the job's view then."""
    pipeline.start(file_url)
    try:
        return wait_until(lambda: (v := pipeline.view(pipeline.studio.store.require(job.id), file_url))["callback"][
            "state"] == state and v, 90, f"the callback to be {state}")
    finally:
        pipeline.close()


def refused_urls(engine, receiver_port: int) -> list[str]:
    engine_port = httpx.URL(engine.base_url).port
    return [
        f"http://127.0.0.1:{receiver_port}/hook",
        f"https://127.0.0.1:{receiver_port}/hook",
        f"http://127.0.0.1:{engine_port}/engine/v1/videos",  # the app's own engine (as the app mounts it)
        f"{engine.base_url.rstrip('/')}/videos",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/hook",
        f"https://[::1]:{receiver_port}/hook",
        f"https://[::ffff:127.0.0.1]:{receiver_port}/hook",  # IPv4-mapped IPv6
        "https://[::ffff:a9fe:a9fe]/latest/meta-data/",  # 169.254.169.254, mapped
        f"https://localhost:{receiver_port}/hook",  # a name that resolves to loopback
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
    ]


def test_private_and_local_targets_are_refused_at_order_time_and_nothing_is_sent_or_stored(studio, engine) -> None:
    pipeline = Pipeline(studio, callback_secret=SECRET)
    with hook_receiver() as receiver:
        for url in refused_urls(engine, httpx.URL(receiver.url).port):
            with pytest.raises(CallbackRefused) as refused:
                order(pipeline, {"prompt": "a heron lifting off", "seconds": 4, "callback_url": url})
            assert refused.value.field == "callback_url"
            assert "https" in str(refused.value) or "public" in str(refused.value), url
        assert not receiver.received
    assert studio.store.all() == [] and not engine.engine.book.listed(), "nothing sent to the provider"
    assert studio.store.table(CALLBACK_TABLE).all() == {}, "nothing stored"


def test_the_refusal_says_what_to_do() -> None:
    with pytest.raises(CallbackRefused, match=f"169.254.169.254.*link-local.*{ALLOW_HOSTS_VAR}"):
        CallbackPolicy().check("https://169.254.169.254/latest")
    with pytest.raises(CallbackRefused, match=f"https.*{ALLOW_HOSTS_VAR}"):
        CallbackPolicy().check("http://hooks.example.com/x")
    with pytest.raises(CallbackRefused, match="not an http"):
        CallbackPolicy().check("ftp://hooks.example.com/x")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1",
                                     "169.254.169.254", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1",
                                     "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
                                     "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a00:1", "fe80::1%eth0"])
def test_addresses_that_are_not_public(address: str) -> None:
    assert why_not_public(address)


@pytest.mark.parametrize("address", [PUBLIC, "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses(address: str) -> None:
    assert why_not_public(address) is None


def test_the_allow_list_names_hosts_addresses_and_networks_as_written() -> None:
    def no_lookup(host: str, port: int) -> list[str]:
        raise AssertionError("a named host is not looked up")

    policy = CallbackPolicy.from_values({ALLOW_HOSTS_VAR: "cms.internal., 10.0.0.5 ,192.168.0.0/16,[::1]"},
                                        resolve=no_lookup)
    assert policy.check("http://CMS.internal/hook") == Target("http://CMS.internal/hook", None)
    assert policy.check("https://10.0.0.5/hook").address is None
    assert policy.check("http://192.168.4.4:8080/hook").address is None
    assert policy.check("http://[::1]:9/hook").address is None
    with pytest.raises(CallbackRefused):
        CallbackPolicy.from_setting("10.0.0.5", resolve=lambda h, p: ["10.0.0.6"]).check("https://10.0.0.6/x")
    with pytest.raises(CallbackRefused):  # a name that is not listed is judged by where it resolves
        CallbackPolicy.from_setting("cms.internal", resolve=lambda h, p: ["10.0.0.5"]).check("https://wiki.internal/")
    public = CallbackPolicy(resolve=lambda h, p: [PUBLIC])
    assert public.check("https://cms.example.com/hook") == Target("https://cms.example.com/hook", PUBLIC)
    with pytest.raises(CallbackRefused):  # one private answer among public ones is enough to refuse
        CallbackPolicy(resolve=lambda h, p: [PUBLIC, "10.0.0.1"]).check("https://cms.example.com/hook")


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_named_loopback_receiver_gets_its_callback(studio) -> None:
    pipeline = Pipeline(studio, callback_secret=SECRET, callback_policy=CallbackPolicy.from_setting("127.0.0.1"))
    with hook_receiver() as receiver:
        job, _, _ = order(pipeline, {"prompt": "a heron lifting off", "seconds": 4, "callback_url": receiver.url})
        pipeline.start(file_url)
        try:
            wait_until(lambda: pipeline.view(studio.store.require(job.id), file_url)["callback"]["state"] == "sent",
                       90, "the callback to be sent")
        finally:
            pipeline.close()
    assert len(receiver.received) == 1
    assert pipeline.view(studio.store.require(job.id), file_url)["callback"]["last_status"] == 200


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_host_that_turns_private_after_the_order_is_refused_at_send_time(studio) -> None:
    answers = {"cms.example": [PUBLIC]}
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return answers[host]

    pipeline = Pipeline(studio, callback_secret=SECRET, callback_policy=CallbackPolicy(resolve=resolve))
    with hook_receiver() as receiver:
        port = httpx.URL(receiver.url).port
        job, _, _ = order(pipeline, {"prompt": "a heron lifting off", "seconds": 4,
                                     "callback_url": f"https://cms.example:{port}/hook"})
        answers["cms.example"] = ["127.0.0.1"]  # DNS rebinding: the receiver on this machine is what answers now
        view = sent_until(pipeline, job, "refused")
        assert not receiver.received, "nothing was POSTed"
    assert looked_up == ["cms.example", "cms.example"], "resolved at order and again at send"
    callback = view["callback"]
    assert callback["last_status"] is None and "127.0.0.1" in callback["reason"] and "loopback" in callback["reason"]


def test_the_send_connects_to_the_checked_address_with_the_url_s_host() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        post(client, Target("https://cms.example.com:8443/hook?a=1", PUBLIC), b"{}", {"x-test": "1"})
        post(client, Target("https://[2606:4700:4700::1111]/hook", "2606:4700:4700::1111"), b"{}", {})
    assert str(sent[0].url) == f"https://{PUBLIC}:8443/hook?a=1"
    assert sent[0].headers["host"] == "cms.example.com:8443" and sent[0].headers["x-test"] == "1"
    assert sent[0].extensions["sni_hostname"] == "cms.example.com", "TLS names (and checks) the URL's host"
    assert sent[1].url.host == "2606:4700:4700::1111"


def test_the_pinned_address_is_the_one_connected_to(studio) -> None:
    """Over a real socket: the URL names a host that does not exist; the checked address answers."""
    with hook_receiver() as receiver, httpx.Client(trust_env=False) as client:
        port = httpx.URL(receiver.url).port
        answer = post(client, Target(f"http://cms.invalid:{port}/hook", "127.0.0.1"), b"{}", {})
    assert answer.status_code == 200 and receiver.received[0].headers["host"] == f"cms.invalid:{port}"


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_redirect_is_not_followed(studio) -> None:
    policy = CallbackPolicy.from_setting("127.0.0.1,localhost")
    pipeline = Pipeline(studio, callback_secret=SECRET, callback_policy=policy,
                        callback_schedule=replace(CALLBACK_SCHEDULE, attempts=1))
    with hook_receiver() as elsewhere, hook_receiver() as receiver:
        receiver.redirect_to = elsewhere.url.replace("127.0.0.1", "localhost")
        job, _, _ = order(pipeline, {"prompt": "a heron lifting off", "seconds": 4, "callback_url": receiver.url})
        view = sent_until(pipeline, job, "gave_up")
        assert len(receiver.received) == 1 and not elsewhere.received, "the 302 was not followed"
    assert view["callback"]["last_status"] == 302


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` (and its key), signed by itself: the test's client trusts just this one."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_over_tls_the_pinned_address_is_reached_under_the_url_s_name(tmp_path: Path) -> None:
    """A receiver on 127.0.0.1 with a certificate for cms.example: reached through the pinned address, its
    certificate checked against cms.example (SNI); a URL naming another host fails the check."""
    import ssl

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bench.loopback import serving

    async def hook(request: Request) -> JSONResponse:
        return JSONResponse({"host": request.headers["host"]})

    cert, key = self_signed(tmp_path, "cms.example")
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with serving(app, "the TLS receiver", ssl_certfile=str(cert), ssl_keyfile=str(key)) as port:
        trusting = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=trusting, trust_env=False) as client:
            answer = post(client, Target(f"https://cms.example:{port}/hook", "127.0.0.1"), b"{}", {})
            assert answer.status_code == 200 and answer.json()["host"] == f"cms.example:{port}"
            with pytest.raises(httpx.ConnectError, match=r"certificate|hostname"):
                post(client, Target(f"https://other.example:{port}/hook", "127.0.0.1"), b"{}", {})
