"""Connected accounts: OAuth 2.0 tokens for Google and Microsoft, kept in the vault."""
