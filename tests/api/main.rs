//! The API's integration suite: the real router on a real database (in-memory SQLite, or a
//! fresh PostgreSQL database per test when `TEST_DATABASE_URL` is set), whole responses asserted.

// A failed expectation in a test should panic with its message: that is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod backup;
mod browser;
mod cache;
mod cities;
mod city;
mod cli;
mod cold_reads;
mod conformance;
mod connections;
mod console;
mod crash;
mod cycle;
mod fanout;
mod helpers;
mod hostile;
mod hostile_sheets;
mod http;
mod limits;
mod memory;
mod metrics;
mod node;
mod pages;
mod pilots;
mod publication;
mod report;
mod returns;
mod rounds;
mod schema;
mod sheets;
mod statements;
mod subscriptions;
mod summary;
mod tokens;
mod upload;
mod validation;
mod webdriver;
mod write_rules;
mod writes;
mod ws_client;
