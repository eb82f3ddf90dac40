"""Indexes that exist for exam-day speed, each beside the query it serves (issue 7).

They are declared here, on the tables of other domains, so that the reason for each stays
with it; migration 0005_performance creates them. tests/test_migrations.py checks that
the migrations and these declarations agree.
"""

from sqlalchemy import Index

from examsys.bank.models import Question
from examsys.exams.models import Attempt

# `examsys close-overdue` runs every minute: WHERE state = 'in_progress' AND deadline < now.
# On the deadline index alone it walks every attempt that ever ended (all of them have a
# past deadline); with the state first it reads only the running attempts.
ATTEMPT_OPEN_DEADLINE = Index("ix_attempt_state_deadline", Attempt.state, Attempt.deadline)

# Drawing a form (every exam start): the active questions of a section's topics. One index
# range per topic instead of intersecting the topic and status indexes over the whole bank.
QUESTION_TOPIC_STATUS = Index("ix_question_topic_status", Question.topic_id, Question.status)
