"""The web layer: the server's routes of our own, as an ASGI app built from a studio and plain settings.

- `app.build_web_app(studio, settings)`: the app; `settings.WebSettings`: what it is told (names, secrets, limits).
- `api`, `review`: the pipeline API and its review routes; `openapi`: their typed models and the document.
- `hooks` (webhook deliveries), `media` (the media folder's files), `access` (sign-in by access token),
  `guests` (guest links); `boundary`: the middleware every request to the server passes.
- `paths`: where each route answers.

It may import the core (`dailies.*`), Starlette and pydantic; never Streamlit (`components/web.py` reads
Streamlit's options and hands plain settings in). This file imports nothing, so that `paths` and `boundary` load
at once in a server still starting, while the modules behind the routes load later.
"""
