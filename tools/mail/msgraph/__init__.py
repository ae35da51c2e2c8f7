"""Microsoft 365 mail through Microsoft Graph: an `outlook:ACCOUNT` inbox and its actions."""
