use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::Store;
use crate::settings::Settings;

/// What every handler shares: cheap to clone, immutable after start-up.
pub(crate) type Shared = Arc<Inner>;

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) settings: Settings,
}

/// An OAuth 2.0 / OpenID Connect provider, ready to serve.
#[derive(Clone)]
pub struct Provider {
    shared: Shared,
}

impl Provider {
    /// `settings` should have passed [`Settings::validate`].
    pub fn new(settings: Settings, store: Store) -> Self {
        Provider {
            shared: Arc::new(Inner { store, settings }),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The provider's routes, to serve as they are or to merge into an application.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/health", get(crate::health::health))
            .with_state(self.shared.clone())
    }
}
