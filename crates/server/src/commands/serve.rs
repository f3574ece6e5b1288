use tokio::net::TcpListener;
use tollgate::Provider;

use super::{Failure, fail, open_store, redact};
use crate::config::Config;
use crate::http;
use crate::prometheus;

pub async fn run(mut config: Config) -> Result<(), Failure> {
    let store = open_store(&config).await?;
    let shutdown = http::shutdown_signal()?;
    let listener = TcpListener::bind(config.bind).await.map_err(|e| {
        fail(format!(
            "cannot listen on {} (configuration key `bind`): {e}",
            config.bind
        ))
    })?;
    let address = listener.local_addr()?;
    if config.issuer_from_bind {
        config.provider.issuer = format!("http://{address}");
    }
    let issuer = config.provider.issuer.clone();
    let provider = Provider::builder(config.provider, store.clone())
        .build()
        .map_err(|e| fail(e.to_string()))?;
    provider
        .prepare_keys()
        .await
        .map_err(|e| fail(format!("cannot prepare the signing keys: {e}")))?;
    let metrics = match config.metrics_bind {
        Some(bind) => {
            let (bound, task) = prometheus::start(bind, provider.clone()).await?;
            tracing::info!(address = %bound, "metrics listening");
            Some(task)
        }
        None => None,
    };
    tracing::info!(
        %address,
        %issuer,
        database = %redact(&config.database_url),
        "listening"
    );
    let routes = provider.router().merge(provider.health_router());
    http::serve(
        listener,
        http::stack(routes, provider.clone()),
        config.http,
        shutdown,
    )
    .await?;
    if let Some(task) = metrics {
        task.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
