"""Transcripts as conversations: the view, its rich text, and the attempts browser."""
