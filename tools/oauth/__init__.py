"""OAuth 2.0 for installed apps: the flows that grant mail, calendar and CRM access, and tokens."""
