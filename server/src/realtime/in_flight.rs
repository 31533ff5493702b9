//! Work the node must finish before it stops: the disconnect handlers of
//! the sockets it closes, and the offline announcements they leave pending
//! for `presence::OFFLINE_GRACE`. Both need the database (contacts) and
//! Redis, so shutdown waits for them (bounded) before closing either.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One piece of work in flight; dropping it says it is done.
pub struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    pub fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Resolves once nothing is in flight and `also_done` holds (checked
    /// again at every change, and every 25 ms for what has no signal).
    pub async fn wait_idle(&self, also_done: impl Fn() -> bool) {
        loop {
            let changed = self.idle.notified();
            if self.count() == 0 && also_done() {
                return;
            }
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep(Duration::from_millis(25)) => {}
            }
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_every_guard() {
        let work = Arc::new(InFlight::default());
        let a = work.enter();
        let b = work.enter();
        let waiting = {
            let work = work.clone();
            tokio::spawn(async move { work.wait_idle(|| true).await })
        };
        drop(a);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!waiting.is_finished(), "one guard is still held");
        drop(b);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("idle once both are done")
            .expect("task");
    }
}
