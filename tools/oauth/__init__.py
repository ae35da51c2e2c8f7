"""OAuth 2.0 access to mail and calendar providers: the token contract and its stores."""
