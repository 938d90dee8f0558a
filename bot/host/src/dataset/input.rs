//! The source's bytes, read in large chunks into one reused buffer. A
//! format parser consumes whole rows from the front; the incomplete row at
//! the end is moved to the front before the next read.

use std::io::{ErrorKind, Read};

/// The longest row (or JSON line) a dataset may have. A longer one is
/// reported as malformed: it is usually an unterminated quote, and it
/// bounds the buffer.
pub(crate) const MAX_ROW_BYTES: usize = 32 << 20;

pub(crate) struct Input {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// `buf[..end]` holds data.
    end: usize,
    eof: bool,
    chunk: usize,
    /// The stream offset of `buf[0]`.
    offset: u64,
}

impl Input {
    pub(crate) fn new(reader: Box<dyn Read + Send>, chunk: usize) -> Input {
        Input {
            reader,
            buf: Vec::new(),
            end: 0,
            eof: false,
            chunk: chunk.clamp(1, 64 << 20),
            offset: 0,
        }
    }

    /// The bytes read and not yet dropped.
    #[inline]
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[..self.end]
    }

    /// True when the source has no more bytes than [`Input::data`].
    #[inline]
    pub(crate) fn eof(&self) -> bool {
        self.eof
    }

    /// The stream offset of `data()[at]`, for messages.
    pub(crate) fn offset_of(&self, at: usize) -> u64 {
        self.offset + at as u64
    }

    /// Drops `data()[..keep_from]`, moves the rest to the front and reads at
    /// least one more chunk (as much again as is kept, when more is kept,
    /// so that a long row is rescanned a logarithmic number of times), or
    /// up to the end of the source.
    pub(crate) fn refill(&mut self, keep_from: usize) -> std::io::Result<()> {
        self.buf.copy_within(keep_from..self.end, 0);
        self.end -= keep_from;
        self.offset += keep_from as u64;
        let target = self.end + self.chunk.max(self.end);
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        while self.end < target {
            match self.reader.read(&mut self.buf[self.end..target]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
