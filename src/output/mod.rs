//! Presentation: renderers of a [`piest::report::Report`] (human text, JSON), of the
//! `piest cache` results, and the live progress shown while a run goes on. Nothing here runs
//! estimates.

pub mod cache;
pub mod human;
pub mod json;
pub mod progress;
