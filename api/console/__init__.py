"""The console at /console: sign-in and roles (users.py, session.py), server-rendered
pages over the API's own services (pages.py), and the policy editor's CodeMirror bundle
(editor/, built into static/build/ by `make console-assets`)."""
