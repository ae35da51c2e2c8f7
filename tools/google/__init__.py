"""What the Gmail and Google Calendar clients share: the API client and the account's tokens."""
