"""Sign-in when the app is bound beyond loopback, on the pages' side: a shared access token, entered once per browser.

On 127.0.0.1 the workbench is this machine's and asks nothing. Bound to another address (`server.address` in
`.streamlit/config.toml`, or none, which is every interface), anyone who can reach the port could render, read every
prompt and spend the team's budget, so: `DAILIES_ACCESS_TOKEN` (environment or secrets) must be set, a person enters
it once on `/access` (`dailies.web.access`), and the answer is an HttpOnly cookie holding a digest of the token
(never the token). Pages (`require_access`, before any page runs) and the media route check that cookie; without it
no page content and no file is served.

People on other machines reach the app only by the names the team configured (`DAILIES_ALLOWED_HOSTS`,
`dailies.web.boundary`); a name configured that is not this machine's (a LAN address, a reverse proxy's name)
also needs sign-in, as a proxy on this machine makes a loopback-bound app reachable from elsewhere.
"""

from __future__ import annotations

import logging

import streamlit as st

from components.web import web_settings
from dailies.access.hosts import ALLOWED_HOSTS_VARIABLE
from dailies.config import is_loopback_host
from dailies.web.access import COOKIE, cookie_valid
from dailies.web.paths import ACCESS_ROUTE

log = logging.getLogger(__name__)


def bound_beyond_loopback() -> bool:
    """Whether people on other machines can reach this server (`WebSettings.bound_beyond_loopback`)."""
    return web_settings().bound_beyond_loopback


def announce() -> None:
    """Say at start when the app is reachable from other machines, and whether sign-in is set up."""
    if not bound_beyond_loopback():
        return
    address = st.get_option("server.address") or "every interface"
    from components.identity import auth_configured

    names = sorted(name for name in web_settings().hosts.names if not is_loopback_host(name))
    if names:
        log.warning("Dailies answers other machines at %s (%s); any other host name is refused.",
                    ", ".join(names), ALLOWED_HOSTS_VARIABLE)
    else:
        log.warning("Dailies answers only loopback names: to be reached from other machines by this machine's name "
                    "or address, set %s (for example %s=dailies.lan,192.168.1.20) and restart.",
                    ALLOWED_HOSTS_VARIABLE, ALLOWED_HOSTS_VARIABLE)

    if auth_configured():
        log.warning("Dailies is bound to %s (beyond loopback): sign-in through [auth] is required.", address)
    elif web_settings().access_token:
        log.warning("Dailies is bound to %s (beyond loopback): sign-in with DAILIES_ACCESS_TOKEN is required.",
                    address)
    else:
        log.warning("Dailies is bound to %s (beyond loopback) and no sign-in is configured: no page or file is "
                    "served until [auth] is set in .streamlit/secrets.toml or DAILIES_ACCESS_TOKEN is.", address)


def require_access() -> None:
    """Stop the script run (no page runs) unless this browser signed in, when bound beyond loopback."""
    if not bound_beyond_loopback():
        return
    from components.identity import auth_configured

    if auth_configured():
        return  # sign-in (st.login) is configured: `require_sign_in` asks for it
    token = web_settings().access_token
    if cookie_valid(st.context.cookies.get(COOKIE), token):
        return
    st.title("Dailies")
    if not token:
        st.error("This workbench is reachable from other machines, so it needs sign-in: configure `[auth]` "
                 "(OpenID Connect) in .streamlit/secrets.toml, or set DAILIES_ACCESS_TOKEN in the environment or "
                 "secrets, and restart it. See the README's \"Sign-in\".", icon=":material/lock:")
    else:
        st.info("This workbench is reachable from other machines: sign in with the team's access token.",
                icon=":material/lock:")
        st.link_button("Sign in", ACCESS_ROUTE, icon=":material/login:")
    st.stop()
