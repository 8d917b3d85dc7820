//! One message as loaded from the store, and one as the view holds it.

/// A message row from the store (`hm_messages` plus keywords and mod-sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Database row (`messageid`).
    pub id: i64,
    /// UID in the folder.
    pub uid: u32,
    /// hMailServer flag bits: 1 Seen, 2 Deleted, 4 Flagged, 8 Answered, 16 Draft. Bit 32
    /// (hMailServer's shared `\Recent`) is ignored; `\Recent` is per session here.
    pub flags: i64,
    /// Keywords such as `$Junk`.
    pub keywords: Vec<String>,
    /// Mod-sequence of the last change (RFC 7162); 0 when the store does not track them.
    pub modseq: u64,
}

/// A message in a [`SelectedMailbox`](super::SelectedMailbox), borrowed from its compact storage.
///
/// The view does not keep per-message mod-sequences (that would add 8 bytes to every message
/// of every session); FETCH MODSEQ reads them from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// Database row.
    pub id: i64,
    /// UID.
    pub uid: u32,
    /// System flag bits as this session last saw them (the five client-settable bits only).
    pub flags: i64,
    /// Keywords as this session last saw them.
    pub keywords: &'a [String],
    /// `\Recent` for this session.
    pub recent: bool,
    /// Expunged from the store but not yet announced to the client (RFC 3501 §7.4.1): the
    /// sequence number stays valid, the message content is gone.
    pub expunged: bool,
}
