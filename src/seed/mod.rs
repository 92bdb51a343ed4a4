//! Data loaded by the application rather than by migrations: the report's facts (on first start,
//! into a database with no cities) and the synthetic data set for benchmarks and demos.

pub mod report;
pub mod synthetic;
