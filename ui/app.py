"""The file Chainlit runs (`chainlit run ui/app.py`): it loads the chat from `ui.chat`.

It stays here because Chainlit's app root is `ui/`, where its `.chainlit/` configuration,
`public/` files (logos, custom elements) and `chainlit.md` live.
"""

import ui.chat.app  # noqa: F401 (importing it registers every chat callback with Chainlit)
