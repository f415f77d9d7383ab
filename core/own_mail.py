"""How touchlog marks the mail it sends itself, so that it never logs its own notices (no loop).
"""

from __future__ import annotations

# touchlog's own notices carry this header, and their Message-IDs start with the prefix: the
# filters skip a notice that comes back to the mailbox (no mail loop).
NOTICE_HEADER = "X-Touchlog-Notice"


NOTICE_ID_PREFIX = "touchlog-notice."
