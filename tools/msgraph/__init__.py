"""Microsoft Graph: the one client that Microsoft 365 mail and the Outlook calendar share."""
