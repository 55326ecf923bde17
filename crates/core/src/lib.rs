//! recert's use-cases, between the wire (server, CLI) and the store: importing data, generating
//! demo organisations, managing API clients. Business rules live here, not in handlers; every
//! use-case takes its clock from the caller so that time can be fixed in tests.

pub mod auth;
pub mod awf;
pub mod campaigns;
pub mod certifications;
pub mod clients;
pub mod demo;
pub mod http;
pub mod import;
pub mod jobs;
pub mod oidc;
pub mod remediation;
pub mod reports;
pub mod web;
pub mod webhook;
