//! The `tollgate` command run as users run it: its commands, `tollgate serve`, real clients.
//! One binary rather than one per file: each test binary links the whole stack, so this is
//! one link instead of N (kanidm's testkit gathers its tests the same way).

mod support;

mod admin;
mod backchannel_interop;
mod browser;
mod cli;
mod client_assertion_interop;
mod deploy_check;
mod deployment;
mod dpop_interop;
mod durability;
mod first_start;
mod import_dot;
mod interop;
mod oidc_interop;
mod operations;
mod outage;
mod par_interop;
mod request_object_interop;
mod resource_server;
mod serve;
mod slow_clients;
