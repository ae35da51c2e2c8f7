"""Mail: the `Email` type, MIME normalisation and the mailbox sources."""
