"""The inbox's language as data: calendar words, ordinals, the triage categories and their nouns.

Every part of the offline engine that reads dates or names a category (triage, intents,
follow-up, grounding, meeting requests) reads them from here, so a word is added once.
"""
