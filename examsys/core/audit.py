"""The audit log: who did what to which object, when. Rows are only ever added."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from examsys.core.types import UTCDateTime
from examsys.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict | None] = mapped_column(JSON)


def record(session, now: datetime, actor_id: int | None, action: str, obj, data=None) -> None:
    """Append an audit event for ``obj`` (a model instance with an ``id``)."""
    session.flush()
    session.add(AuditEvent(at=now, actor_id=actor_id, action=action,
                           object_type=type(obj).__tablename__, object_id=str(obj.id),
                           data=data))
