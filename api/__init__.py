"""The REST API and the chat page: `api.app.create_app()`; see docs/api.md."""
