"""OAuth 2.0 for installed apps: the flows that grant mail and calendar access, and the tokens."""
