//! Presentation: renderers of a [`piest::report::Report`] (human text, JSON) and the live
//! progress shown while a run goes on. Nothing here runs estimates.

pub mod human;
pub mod json;
pub mod progress;
