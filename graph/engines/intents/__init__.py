"""Intent patterns: how the offline engine turns a user's words into tool calls.

The phrases and the order of the intents are data (`intents.toml`); `matcher` tries them in
order and the first that matches decides; the plans (`mail_plans`, `summary_plans`,
`work_plans`, `calendar_plans`) turn the question into calls. It understands the common inbox
questions, the calendar and requests for the work tools; anything else becomes a word search.
"""
