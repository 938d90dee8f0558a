//! Resource limits for one plugin step, and clamping them to server maxima.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits for one step. A workflow may lower any of them, and raise them up
/// to the server's maxima.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall time for the whole step.
    pub timeout: Duration,
    /// Linear memory, in bytes.
    pub memory: usize,
    /// Bytes of log kept; the rest is dropped with a note.
    pub log_bytes: usize,
    /// Total size of the returned actions, in bytes.
    pub output_bytes: usize,
    /// Fuel budget when the engine meters fuel (benchmarks and tests only).
    pub fuel: Option<u64>,
}

impl Limits {
    /// The defaults a step gets when its workflow says nothing.
    pub const DEFAULT: Limits = Limits {
        timeout: Duration::from_secs(30),
        memory: 256 << 20,
        log_bytes: 64 << 10,
        output_bytes: 8 << 20,
        fuel: None,
    };

    /// The server-wide maxima no workflow can exceed.
    pub const MAX: Limits = Limits {
        timeout: Duration::from_secs(600),
        memory: 1 << 30,
        log_bytes: 1 << 20,
        output_bytes: 64 << 20,
        fuel: None,
    };

    /// Each limit lowered to at most `max`'s.
    pub fn clamp_to(self, max: &Limits) -> Limits {
        Limits {
            timeout: self.timeout.min(max.timeout),
            memory: self.memory.min(max.memory),
            log_bytes: self.log_bytes.min(max.log_bytes),
            output_bytes: self.output_bytes.min(max.output_bytes),
            fuel: match (self.fuel, max.fuel) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_never_exceeds_the_maxima() {
        let asked = Limits {
            timeout: Duration::from_secs(3600),
            memory: 4 << 30,
            ..Limits::DEFAULT
        };
        let got = asked.clamp_to(&Limits::MAX);
        assert_eq!(got.timeout, Limits::MAX.timeout);
        assert_eq!(got.memory, Limits::MAX.memory);
        assert_eq!(got.log_bytes, Limits::DEFAULT.log_bytes);
    }
}
