"""Which pending tasks a case announces (states/announcements.py), in the domain alone."""

from __future__ import annotations

from states.announcements import Announcements
from states.roles import Task

R, RA, RD, RR = Task.research, Task.risk_assessment, Task.remedial_disclosure, Task.referral_resolution


class TestAnnouncements:
    """Each task once each time it becomes pending."""

    def test_a_move_that_leaves_a_task_pending_announces_nothing(self) -> None:
        """The remedial disclosure still waits after the referral is filed: nothing new to announce."""
        book = Announcements(set(), [RD], 6)
        assert book.take() == [RD]
        book.moved([RD], 7)
        book.moved([RD], 8)
        assert book.take() == []

    def test_a_task_done_before_the_case_looked_is_announced(self) -> None:
        """Research done before the first look was waiting too: both it and the next task are announced."""
        book = Announcements(set(), [R], 0)
        book.moved([RA], 1)
        assert book.take() == [R, RA]

    def test_pending_again_is_announced_again(self) -> None:
        """A referral refused, sent again and refused again: announced each time it waits."""
        book = Announcements(set(), [RD, RR], 6)
        assert book.take() == [RD, RR]
        book.moved([RD], 7)
        book.moved([RD, RR], 7)
        assert book.take() == [RR]

    def test_a_continued_run_repeats_nothing(self) -> None:
        """Carried over as 'task:moves' keys (old runs kept one per move): nothing is announced again."""
        notified = {("remedial_disclosure", "6"), ("remedial_disclosure", "7")}
        book = Announcements(notified, [RD], 7)
        assert book.take() == []
        book.moved([RD], 8)
        assert book.take() == [] and ("remedial_disclosure", "8") not in notified
