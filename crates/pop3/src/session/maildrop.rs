//! The opened maildrop: the messages as they were when it was locked, numbered from 1
//! (RFC 1939 §5), and the deletion marks of this session.
//!
//! The list never changes during a session: messages delivered meanwhile wait for the next one,
//! and message numbers stay valid until QUIT, RSET included.

use super::MailboxEntry;

/// Why a message number does not name a message that can be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unavailable {
    /// 0, or past the last message.
    NoSuchMessage,
    /// Marked with DELE in this session.
    Deleted,
}

#[derive(Debug)]
pub(super) struct Maildrop {
    entries: Vec<MailboxEntry>,
    deleted: Vec<bool>,
}

impl Maildrop {
    pub(super) fn new(entries: Vec<MailboxEntry>) -> Self {
        let deleted = vec![false; entries.len()];
        Maildrop { entries, deleted }
    }

    fn index(&self, number: u32) -> Option<usize> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        (index < self.entries.len()).then_some(index)
    }

    /// The message with this number, if it is there and not marked.
    pub(super) fn get(&self, number: u32) -> Result<&MailboxEntry, Unavailable> {
        let index = self.index(number).ok_or(Unavailable::NoSuchMessage)?;
        if self.deleted.get(index).copied().unwrap_or(false) {
            return Err(Unavailable::Deleted);
        }
        self.entries.get(index).ok_or(Unavailable::NoSuchMessage)
    }

    /// Marks a message for deletion at QUIT.
    pub(super) fn delete(&mut self, number: u32) -> Result<(), Unavailable> {
        self.get(number)?;
        let index = self.index(number).ok_or(Unavailable::NoSuchMessage)?;
        if let Some(mark) = self.deleted.get_mut(index) {
            *mark = true;
        }
        Ok(())
    }

    /// Unmarks every message.
    pub(super) fn reset(&mut self) {
        self.deleted.fill(false);
    }

    /// The messages not marked, with their numbers.
    pub(super) fn visible(&self) -> impl Iterator<Item = (u32, &MailboxEntry)> {
        self.entries
            .iter()
            .zip(&self.deleted)
            .zip(1u32..)
            .filter(|((_, deleted), _)| !**deleted)
            .map(|((entry, _), number)| (number, entry))
    }

    /// Count and total size of the messages not marked.
    pub(super) fn totals(&self) -> (usize, u64) {
        self.visible().fold((0, 0), |(count, octets), (_, entry)| (count + 1, octets.saturating_add(entry.size)))
    }

    /// The ids of the marked messages, in order.
    pub(super) fn marked(&self) -> Vec<i64> {
        self.entries.iter().zip(&self.deleted).filter(|(_, deleted)| **deleted).map(|(entry, _)| entry.id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, size: u64) -> MailboxEntry {
        MailboxEntry { id, size, uid: id.to_string() }
    }

    #[test]
    fn numbers_marks_and_totals() {
        let mut drop = Maildrop::new(vec![entry(10, 100), entry(20, 200), entry(30, 300)]);
        assert_eq!(drop.totals(), (3, 600));
        assert_eq!(drop.get(0), Err(Unavailable::NoSuchMessage));
        assert_eq!(drop.get(4), Err(Unavailable::NoSuchMessage));
        assert_eq!(drop.get(u32::MAX), Err(Unavailable::NoSuchMessage));
        assert_eq!(drop.get(2).map(|e| e.id), Ok(20));
        assert_eq!(drop.delete(2), Ok(()));
        assert_eq!(drop.delete(2), Err(Unavailable::Deleted));
        assert_eq!(drop.get(2), Err(Unavailable::Deleted));
        assert_eq!(drop.totals(), (2, 400));
        assert_eq!(drop.visible().map(|(n, _)| n).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(drop.marked(), [20]);
        drop.reset();
        assert_eq!(drop.totals(), (3, 600));
        assert!(drop.marked().is_empty());
    }
}
