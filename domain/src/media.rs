//! The media aggregate: metadata of photos and reports, one stream per user.
//!
//! Owns: what a stored photo or report is (blob reference, content hash, kind, capture
//! time, redaction facts) and its add / remove lifecycle. Must not: touch bytes. Stripping
//! metadata and blurring faces happen in the upload pipeline (`docs/media.md`); the domain
//! refuses records the pipeline did not vouch for.

mod command;
mod decide;
mod error;
mod event;
mod state;
#[cfg(test)]
mod tests;
mod values;

pub use command::MediaCommand;
pub use error::MediaError;
pub use event::MediaEvent;
pub use state::{MediaRecord, MediaState};
pub use values::{BlobRef, ContentHash, MediaKind};

/// The media aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Media;

impl crate::aggregate::Aggregate for Media {
    const NAME: &'static str = "media";
    type State = MediaState;
    type Command = MediaCommand;
    type Event = MediaEvent;
    type Error = MediaError;

    fn decide(state: &MediaState, command: MediaCommand) -> Result<Vec<MediaEvent>, MediaError> {
        decide::decide(state, command)
    }

    fn evolve(state: MediaState, event: &MediaEvent) -> MediaState {
        state.apply(event)
    }
}
