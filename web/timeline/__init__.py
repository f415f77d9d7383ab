"""The timeline and touchpoint pages (SPEC 21): an account's timeline (`account`, drawn with
`chart`), one touchpoint and adding one (`touchpoint`, attachments by `downloads`), and the
changes (`changes`: edit, delete, send)."""
