//! The aggregate contract every consistency boundary implements.
//!
//! Owns: the `decide`/`evolve` shape, the event metadata trait and replay.
//! Must not: know how events are stored, numbered or encrypted (that is the event store's job).

/// A consistency boundary that turns commands into events.
///
/// Everything here is synchronous and deterministic. Anything that needs the outside
/// world (time, ids, lookups such as "is this handle taken?") arrives inside the command.
pub trait Aggregate {
    /// Stable stream type name stored with every event. Renaming it orphans history.
    const NAME: &'static str;
    /// What the aggregate remembers between commands; `Default` is "nothing happened yet".
    type State: Default + Clone + std::fmt::Debug + PartialEq;
    /// Imperative requests ("record this", "amend that").
    type Command;
    /// Past-tense facts.
    type Event: DomainEvent + Clone + std::fmt::Debug + PartialEq;
    /// Business-rule rejections only; never infrastructure failures.
    type Error: std::error::Error + PartialEq;

    /// Validates `command` against `state` and returns the resulting events.
    ///
    /// # Errors
    /// Returns the aggregate's error when a business rule rejects the command.
    fn decide(state: &Self::State, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Applies one already-accepted event. Must not fail and must not contain rules.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
}

/// Metadata every domain event exposes to the store and to projections.
pub trait DomainEvent {
    /// Stable type name (the variant name), stored beside the payload.
    fn event_type(&self) -> &'static str;
    /// Version of this variant's payload layout; bump it when the payload changes shape.
    fn schema_version(&self) -> u32;
}

/// Folds `events` from the empty state: what a loader does before calling `decide`.
pub fn replay<'a, A: Aggregate>(events: impl IntoIterator<Item = &'a A::Event>) -> A::State
where
    A::Event: 'a,
{
    events.into_iter().fold(A::State::default(), A::evolve)
}

/// The state after a command, with the events that produced it.
pub type Executed<A> = (<A as Aggregate>::State, Vec<<A as Aggregate>::Event>);

/// Decides and, on success, evolves: the state after the command plus the new events.
///
/// # Errors
/// Passes through the aggregate's rejection.
pub fn execute<A: Aggregate>(state: A::State, command: A::Command) -> Result<Executed<A>, A::Error> {
    let events = A::decide(&state, command)?;
    let state = events.iter().fold(state, A::evolve);
    Ok((state, events))
}
