"""Every table touchlog keeps, in creation order (a foreign key's table before its users)."""

from __future__ import annotations

from store.access.models import AuditEntry, SignInLink, WebSession
from store.kept import KeptSecret
from store.ledger.in_hand import InHand
from store.ledger.in_hand_batch import InHandBatch
from store.ledger.models import BrokenMessage, MessageRecord, Notice, Run
from store.models import (
    Account,
    AccountDomain,
    Association,
    CustomerUser,
    KeptValue,
    KeyCheck,
    Task,
    TeamAlias,
    TeamMember,
    Touchpoint,
    TouchpointMail,
)

MODELS = [Account, AccountDomain, CustomerUser, Association, TeamMember, TeamAlias, Touchpoint,
          TouchpointMail, Task, MessageRecord, Notice, Run, BrokenMessage, KeptValue, KeyCheck,
          WebSession, SignInLink, AuditEntry, KeptSecret, InHand,
          InHandBatch]
