//! sea-orm models of the coverage database, one module per table. Models only: the GraphQL types
//! live in the main crate, so the API can change without touching storage and vice versa.

pub mod account;
pub mod api_token;
pub mod city;
pub mod city_return;
pub mod coverage_record;
pub mod enums;
pub mod pilot_designation;
pub mod pilot_program;
pub mod province_total;
pub mod public_record;
pub mod publication;
pub mod published_record;
pub mod revision;
pub mod round;
pub mod sign_in_failure;

pub use enums::{
    BranchType, CityKind, CredentialKind, ProgramLevel, ReturnStatus, RevisionKind, Role,
    RoundStatus,
};
