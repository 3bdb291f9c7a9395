//! Size-bounded TTL caches for metadata that is read often and changes rarely (bucket regions,
//! table descriptions, function configurations, clients per region). moka gives concurrent access,
//! expiry and a size bound without a lock held across awaits.

use std::hash::Hash;
use std::time::Duration;

use crate::ToolError;

#[derive(Clone)]
pub struct TtlCache<K, V> {
    inner: moka::future::Cache<K, V>,
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The cached value, or the result of `fetch` (cached when it succeeds). The flag says whether
    /// the value came from the cache. Errors are never cached.
    pub async fn get_or_fetch<F>(&self, key: K, fetch: F) -> Result<(V, bool), ToolError>
    where
        F: std::future::Future<Output = Result<V, ToolError>>,
    {
        if let Some(v) = self.inner.get(&key).await {
            return Ok((v, true));
        }
        let v = fetch.await?;
        self.inner.insert(key, v.clone()).await;
        Ok((v, false))
    }

    pub async fn get(&self, key: &K) -> Option<V> {
        self.inner.get(key).await
    }

    pub async fn insert(&self, key: K, value: V) {
        self.inner.insert(key, value).await;
    }

    /// Forget a key: called by write tools for what they change.
    pub async fn invalidate(&self, key: &K) {
        self.inner.invalidate(key).await;
    }

    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caches_successes_not_errors_and_invalidates() {
        let cache = TtlCache::<String, u32>::new(10, Duration::from_secs(60));
        let (v, hit) = cache.get_or_fetch("a".into(), async { Ok(1) }).await.unwrap();
        assert_eq!((v, hit), (1, false));
        let (v, hit) = cache.get_or_fetch("a".into(), async { Ok(2) }).await.unwrap();
        assert_eq!((v, hit), (1, true));
        assert!(
            cache
                .get_or_fetch("b".into(), async { Err(ToolError::Other("x".into())) })
                .await
                .is_err()
        );
        assert_eq!(cache.get(&"b".to_string()).await, None);
        cache.invalidate(&"a".to_string()).await;
        let (v, hit) = cache.get_or_fetch("a".into(), async { Ok(3) }).await.unwrap();
        assert_eq!((v, hit), (3, false));
    }

    #[tokio::test]
    async fn entries_expire() {
        let cache = TtlCache::<u8, u8>::new(10, Duration::from_millis(30));
        cache.insert(1, 1).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(cache.get(&1).await, None);
    }
}
