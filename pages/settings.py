"""Settings: who renders, what a take costs, what may be sent, where the files are."""

import dataclasses

import streamlit as st

from components.access import bound_beyond_loopback
from components.bucket_settings import bucket_section
from components.refresh import refresh_every, settle
from components.runtime import studio
from components.text import plain
from components.webhook_settings import webhook_section
from dailies.config import PROVIDER_NAME, REMOTE, ProviderSettings, key_hint
from dailies.errors import ValidationError
from dailies.providers import registry
from dailies.videos_spec import SECONDS, SIZES

shared = studio()
settings = dataclasses.replace(shared.settings, provider_limits=dict(shared.settings.provider_limits))
st.title("Settings")
if bound_beyond_loopback():
    st.warning(f"This workbench is bound to {st.get_option('server.address') or 'every interface'}, beyond "
               "loopback: people on other machines can reach it, and sign in with DAILIES_ACCESS_TOKEN.",
               icon=":material/public:")

st.subheader("Providers")
names = shared.providers.names()
added_by_name = {p.name: p for p in shared.settings.extra_providers}
defined = shared.env.providers
for name in names:
    provider = shared.provider(name)
    kind = registry.KINDS.get(shared.providers.kind_of(name))
    with st.container(border=True, horizontal=True, vertical_alignment="center", key=f"provider_{name}"):
        st.markdown(f"**{plain(provider.label)}** · `{name}`")
        if kind is not None and (name in added_by_name or name in defined):
            st.caption(plain(kind.label))
        if name == REMOTE:
            st.caption(f"Key: {shared.env.key_hint()} (DAILIES_API_KEY / OPENAI_API_KEY)")
        elif name in defined:
            variables = registry.key_variables(defined[name])
            key = next((k for k in map(shared.env.key_named, variables) if k), None)
            where = f"[providers.{name}] in .streamlit/secrets.toml or DAILIES_PROVIDER_{registry.env_name(name)}_…"
            if setup := registry.setup_of(defined[name]):  # Google: where it runs and how it signs in
                st.caption(f"Defined on the server ({plain(where)}) · Project: {plain(setup.get('project', ''))} · "
                           f"Location: {plain(setup.get('location', 'us-central1'))} · Credentials: "
                           f"{plain(setup.get('credentials_file', 'Application Default Credentials'))}")
            else:
                st.caption(f"Defined on the server ({plain(where)}) · Key: {key_hint(key)} "
                           f"(from {plain(' or '.join(variables) or 'none named')})")
        elif name in added_by_name:
            variables = registry.key_variables(added_by_name[name], added=True)
            key = next((k for k in map(shared.env.key_named, variables) if k), None)
            st.caption(f"Added here · Key: {key_hint(key)} (from {plain(' or '.join(variables))}, sent to its own "
                       "API only)" if variables else "Added here · sent no key")
        if isinstance(provider, registry.Unavailable):
            st.warning(plain(provider.why), icon=":material/key_off:")
            entry = added_by_name.get(name)
            if entry is not None and name not in defined and registry.added_problem(name, entry):
                st.code(registry.definition(name, entry.kind, entry.base_url, entry.key_from), language="toml")
        if st.button("Test connection", key=f"test_{name}", icon=":material/network_check:"):
            health = shared.admin.test_connection(name)
            (st.success if health.ok else st.error)(plain(health.message))
with st.expander("Add a provider"):
    new_kind = st.selectbox("Kind", list(registry.KINDS), key="new_provider_kind",
                            format_func=lambda k: registry.KINDS[k].label)
    chosen_kind = registry.KINDS[new_kind]
    st.caption(plain(chosen_kind.supports))
    new_name = st.text_input("Name", key="new_provider_name", placeholder="gateway" if chosen_kind.needs_base_url
                             else new_kind)
    example = new_name.strip() if PROVIDER_NAME.fullmatch(new_name.strip()) else (
        "gateway" if chosen_kind.needs_base_url else new_kind)
    if chosen_kind.needs_base_url:
        st.caption("A local server, another engine, a LiteLLM proxy with no key… Added here, it is sent no key. "
                   "A server that needs one is defined where keys live, in .streamlit/secrets.toml (then restart "
                   "the app, and it is listed above):")
        st.code(registry.definition(example, new_kind, "https://gateway.example.com/v1", "GATEWAY_API_KEY"),
                language="toml")
        st.caption("Plain http is accepted for this machine only.")
        new_url = st.text_input("Base URL", key="new_provider_url", placeholder="http://localhost:4000/v1"
                                if new_kind == "litellm" else "http://127.0.0.1:8000/v1")
    elif not chosen_kind.key_variables:  # Google Veo: a Google Cloud project, defined where keys live
        st.caption(f"{plain(chosen_kind.label)} runs in a Google Cloud project, with a service-account key file on "
                   "this server or Application Default Credentials. Define it in .streamlit/secrets.toml (then "
                   "restart the app); added here without a project it is listed but sends nothing:")
        st.code(registry.definition(example, new_kind, setup={"project": "my-project", "location": "us-central1",
                                                              "credentials_file": "/srv/keys/veo.json"}),
                language="toml")
        new_url = ""
    else:
        variables = " or ".join(chosen_kind.key_variables)
        vendor = chosen_kind.label.split(" (")[0]
        missing = registry.key_problem(new_kind, shared.env.key_named)
        st.caption(f"Its key is read from {variables} (the environment or .streamlit/secrets.toml), never stored, "
                   f"and sent to {plain(vendor)}'s own API only. A proxy or a local stand-in is defined in "
                   ".streamlit/secrets.toml instead (then restart the app):")
        st.code(registry.definition(example, new_kind, "https://proxy.example.com"), language="toml")
        if missing:
            st.warning(f"{plain(missing)} Then restart the app.", icon=":material/key_off:")
        new_url = ""
    if st.button("Add provider", key="add_provider", icon=":material/add:"):
        try:
            shared.add_provider(new_name, new_url, kind=new_kind)
        except ValidationError as exc:
            st.error(plain(exc), icon=":material/block:")
        else:
            st.rerun()
    added = [p.name for p in shared.settings.extra_providers]
    if added:
        gone = st.selectbox("Remove an added provider", added, index=None, key="remove_provider")
        if gone and st.button(f"Remove {plain(gone)}", key="remove_provider_btn", icon=":material/delete:"):
            shared.admin.remove_provider(gone)
            st.rerun()

# One pattern on this page: what is a setting sits in a box (a form) whose Save button is at its foot, and
# nothing in it is kept before that Save; what acts at once is a button that names its action (Test
# connection, Add provider, Register, Remove, Clean up).
with st.form("settings_form", border=True, enter_to_submit=False):
    st.subheader("Provider, defaults, budget and moderation")
    st.caption("Kept when you press Save settings at the foot of this box.")
    settings.active_provider = st.selectbox("Use", names, index=names.index(shared.active_provider_name),
                                            key="active_provider")
    st.markdown("**Defaults**")
    with st.container(horizontal=True):
        settings.default_size = st.selectbox("Size", SIZES, index=SIZES.index(settings.default_size),
                                             key="default_size")
        settings.default_seconds = st.selectbox("Seconds", SECONDS, index=SECONDS.index(settings.default_seconds),
                                                key="default_seconds")
        settings.max_concurrency = st.number_input("Submit at most at once", 1, 16, settings.max_concurrency,
                                                   key="max_concurrency")
        settings.deadline_minutes = st.number_input("Give up waiting after (minutes)", 1.0, 240.0,
                                                    float(settings.deadline_minutes), key="deadline_minutes")
    settings.allow_high_res = st.toggle("Offer sizes above 720p by default", settings.allow_high_res,
                                        key="allow_high_res")

    st.markdown("**Takes at once, per provider**")
    st.caption("A plan's concurrent tasks: more takes wait here, in line, and go as earlier ones finish. A refusal "
               "that names its limit teaches it too. 0: no limit.")
    with st.container(horizontal=True):
        for name in names:
            limit = st.number_input(shared.provider(name).label, 0, 100, int(settings.provider_limits.get(name, 0)),
                                    key=f"limit_{name}", width=220, help=f"Takes sent to {name} at once")
            settings.provider_limits = {**{k: v for k, v in settings.provider_limits.items() if k != name},
                                        **({name: int(limit)} if limit else {})}

    st.markdown("**Budget and rates**")
    settings.daily_budget_usd = st.number_input("Daily budget ($, 0 for none)", 0.0, 100000.0,
                                                float(settings.daily_budget_usd), step=5.0, key="budget")
    RATE_COLUMNS = {"model": st.column_config.TextColumn("Model (or model@WxH; model@silent: a take without sound)",
                                                         required=True),
                    "usd_per_second": st.column_config.NumberColumn("$ per second", min_value=0.0, format="%.2f")}


    def rate_table(table: dict[str, float], key: str) -> dict[str, float]:
        """A provider's rates, edited as rows of model and dollars per second."""
        rows = st.data_editor([{"model": model, "usd_per_second": value} for model, value in table.items()],
                              num_rows="dynamic", key=key, column_config=RATE_COLUMNS)
        return {row["model"]: float(row["usd_per_second"] or 0) for row in rows if row.get("model")}


    st.caption("OpenAI-compatible servers (the remote one, and those added without rates of their own); "
               "the embedded engine is free.")
    settings.rates = rate_table(settings.rates, "rates")
    priced = []
    # A provider defined on the server is priced here too: an entry of its name keeps its rates (never its URL or key).
    listed = {p.name for p in settings.extra_providers}
    unpriced = [ProviderSettings(n, n, kind=d.kind) for n, d in defined.items() if n in names and n not in listed]
    for added_provider in [*settings.extra_providers, *unpriced]:
        if registry.speaks_openai(added_provider.kind) and not added_provider.rates:
            priced.append(added_provider)
            continue
        kind = registry.KINDS.get(added_provider.kind)
        st.caption(f"{plain(added_provider.name)} ({plain(kind.label if kind else added_provider.kind)}): from the "
                   "vendor's pricing pages as last read, not an invoice; check them.")
        default = registry.prices(added_provider.kind).to_table() if kind else {}
        table = rate_table(added_provider.rates or default, f"rates_{added_provider.name}")
        if added_provider.name in listed or table != default:
            priced.append(dataclasses.replace(added_provider, rates=table))
    settings.extra_providers = [p for p in priced if p.name in listed or p.rates]

    st.markdown("**Moderation**")
    terms = st.text_area("Blocked terms, one per line", "\n".join(settings.moderation_terms), key="terms")
    settings.moderation_terms = [t for t in terms.splitlines() if t.strip()]
    settings.moderation_patterns = [p for p in st.text_area("Blocked patterns (regular expressions), one per line",
                                                            "\n".join(settings.moderation_patterns),
                                                            key="patterns").splitlines() if p.strip()]
    settings.use_provider_moderation = st.toggle("Also ask the provider's moderation endpoint when it has one",
                                                 settings.use_provider_moderation, key="provider_moderation")

    save = st.form_submit_button("Save settings", type="primary", icon=":material/save:", key="save_settings")
if save:
    try:
        shared.save_settings(settings)
    except ValidationError as exc:
        st.error(plain(exc), icon=":material/block:")
    else:
        st.success("Saved.", icon=":material/check:")

webhook_section(shared)
bucket_section(shared)



def media_on_disk(counting: bool) -> None:
    """The media folder's size, counted in the background (100,000 takes take seconds to walk), so the
    page never waits for it; while a count runs this part looks again every second."""
    size, current = shared.media_usage.size(shared.takes.version)
    st.metric("Media on disk", "counting…" if size is None else f"{size / 2**20:,.1f} MB",
              help=None if current else "Being counted again: the store changed since the last count.")
    settle(counting, not current)


st.subheader("Data folder")
st.code(str(shared.home), language=None)
# A small folder is counted within the wait and shown at once; a large one is shown when counted.
counting = not shared.media_usage.size(shared.takes.version, wait=0.3)[1]
st.fragment(media_on_disk, run_every=refresh_every(counting, 1))(counting)
with st.container(horizontal=True, vertical_alignment="bottom"):
    days = st.number_input("Remove files of unpicked, unrated takes older than (days)", 1, 3650, 30, key="clean_days")
    if st.button("Clean up", key="clean_up", icon=":material/cleaning_services:"):
        st.success(f"Removed the files of {shared.takes.clean_up(days)} job(s).")
