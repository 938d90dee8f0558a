//! andon's pure domain: events, changes, actions, workflows, planning and
//! policy.
//!
//! Nothing here does IO or reads the clock: time and file contents are
//! passed in, and parsing returns what it could parse plus diagnostics
//! instead of failing.

pub mod action;
pub mod change;
pub mod command;
pub mod diagnostic;
pub mod effect;
pub mod event;
pub mod glob;
pub mod limits;
pub mod manifest;
pub mod plan;
pub mod policy;
pub mod registry;
pub mod render;
pub mod run;
pub mod schedule;
pub mod webhook;
pub mod workflow;
use andon_yaml as yaml;

pub use action::{Action, Annotation, AnnotationLevel, Artifact, CheckRun, Conclusion};
pub use change::{AddedLine, ChangedFile, FileStatus, Side};
pub use diagnostic::{Diagnostic, Severity};
pub use event::{Event, EventKind};
pub use manifest::{CommandInfo, Manifest, Permission};
