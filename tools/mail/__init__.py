"""Mail: the `Email` type, MIME normalisation, the mailbox sources and the mail tools."""
