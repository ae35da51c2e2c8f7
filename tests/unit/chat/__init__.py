"""Unit tests of the Chainlit chat (`ui.chat`): what it renders, who may log in."""
