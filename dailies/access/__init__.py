"""Who may reach the server and how fast they may guess: the rules, kept without Streamlit or HTTP.

What lives here (each module one rule, testable on its own):
- `hosts`: which names the server answers to, which origins may ask, what it may fetch (`HostPolicy`).
- `lockout`: how fast anyone may guess the access token, per address and for everyone (`Guesses`).
- `identity`: the sign-in allow-list of e-mail domains and addresses (`AllowList`).
The routes and middleware that apply them live in `components/` (`boundary.py`, `access.py`, `identity.py`).
May import: the standard library and `dailies.config`; never Streamlit, a page, a store or a provider.
Nothing is re-exported here, so the boundary can import one rule at start-up without the others.
"""
