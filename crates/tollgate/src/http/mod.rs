//! What every endpoint shares over HTTP: form bodies, the JSON answers and
//! errors of the protocol endpoints, CORS, the client's address through trusted
//! proxies, database outages as 503, and `/health`.

pub(crate) mod address;
pub(crate) mod cors;
pub(crate) mod form;
pub(crate) mod health;
pub(crate) mod json;
pub(crate) mod outage;
