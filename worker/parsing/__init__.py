"""Step 2, parse: raw RFC 822 bytes to :class:`~worker.parsing.message.ParsedMail`, never raising.

Headers, charsets, the MIME tree, HTML to text, quotes/forwards/signatures stripped from the scored
text, hostile markup neutralised, a character budget. Start at :mod:`worker.parsing.message`.
"""
