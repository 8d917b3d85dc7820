//! The BDAT chunk receiver (RFC 3030 §2, CHUNKING).
//!
//! A chunk is exactly `size` octets after the BDAT command line: no dot-stuffing, no end marker,
//! no line-ending rules. The receiver counts the chunk down and stores at most `room` octets of
//! it; past that it keeps counting (so the session stays in step) and reports the chunk as too
//! big. A chunk the session refuses (no transaction, too big) is received with `room` 0.

/// What [`BdatReceiver::ingest`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BdatStatus {
    /// All input was consumed and the chunk is not complete.
    NeedMore,
    /// The chunk is complete; `consumed` octets of this input belonged to it.
    Done {
        /// Octets of the input consumed.
        consumed: usize,
    },
}

/// Incremental BDAT chunk receiver; see the module documentation.
#[derive(Debug, Clone)]
pub struct BdatReceiver {
    remaining: u64,
    room: u64,
    too_big: bool,
}

impl BdatReceiver {
    /// A receiver for a chunk of `size` octets storing at most `room` of them.
    pub fn new(size: u64, room: u64) -> Self {
        BdatReceiver { remaining: size, room, too_big: false }
    }

    /// Consumes chunk octets from `input`, appending up to the room left to `body`.
    ///
    /// # Returns
    ///
    /// [`BdatStatus::Done`] once the chunk is complete (also for an empty chunk and empty input);
    /// the receiver must not be fed again after that.
    pub fn ingest(&mut self, input: &[u8], body: &mut Vec<u8>) -> BdatStatus {
        let take = usize::try_from(self.remaining).map_or(input.len(), |remaining| remaining.min(input.len()));
        let (chunk, _) = input.split_at(take);
        let storable = usize::try_from(self.room).map_or(chunk.len(), |room| room.min(chunk.len()));
        if storable < chunk.len() {
            self.too_big = true;
        }
        let (stored, _) = chunk.split_at(storable);
        body.extend_from_slice(stored);
        self.room -= stored.len() as u64;
        self.remaining -= take as u64;
        if self.remaining == 0 { BdatStatus::Done { consumed: take } } else { BdatStatus::NeedMore }
    }

    /// Octets of the chunk still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// `true` when more octets arrived than there was room for.
    pub fn is_too_big(&self) -> bool {
        self.too_big
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(receiver: &mut BdatReceiver, chunks: &[&[u8]]) -> (Vec<u8>, Option<usize>) {
        let mut body = Vec::new();
        let mut offset = 0;
        for chunk in chunks {
            match receiver.ingest(chunk, &mut body) {
                BdatStatus::Done { consumed } => return (body, Some(offset + consumed)),
                BdatStatus::NeedMore => offset += chunk.len(),
            }
        }
        (body, None)
    }

    #[test]
    fn counts_down_across_splits() {
        let input = b"ab\r\n.\r\nc\nQUIT\r\n";
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            let mut receiver = BdatReceiver::new(9, u64::MAX);
            assert_eq!(feed(&mut receiver, &[a, b]), (b"ab\r\n.\r\nc\n".to_vec(), Some(9)), "split {split}");
            assert!(!receiver.is_too_big());
        }
    }

    #[test]
    fn empty_chunk_is_done_at_once() {
        assert_eq!(BdatReceiver::new(0, 10).ingest(b"", &mut Vec::new()), BdatStatus::Done { consumed: 0 });
        assert_eq!(BdatReceiver::new(0, 10).ingest(b"QUIT", &mut Vec::new()), BdatStatus::Done { consumed: 0 });
    }

    #[test]
    fn stores_only_the_room() {
        let mut receiver = BdatReceiver::new(6, 4);
        assert_eq!(feed(&mut receiver, &[b"abc", b"defg"]), (b"abcd".to_vec(), Some(6)));
        assert!(receiver.is_too_big());
        let mut receiver = BdatReceiver::new(u64::MAX, 0);
        assert_eq!(feed(&mut receiver, &[b"abc"]), (Vec::new(), None));
        assert!(receiver.is_too_big());
    }
}
