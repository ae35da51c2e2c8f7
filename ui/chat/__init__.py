"""The Chainlit chat: callbacks, approval cards, the triage view, the mail page, chat history.

Chainlit runs `ui/app.py`, which loads `ui.chat.app`; the app root (`.chainlit/`, `public/`,
`chainlit.md`) stays in `ui/`. Nothing is imported here, so the command line can use the chat's
user store without loading Chainlit.
"""
