//! The push service on loopback (`push::receiver`), with the tests' way of
//! waiting for it: a test fails, with what did arrive, when pushes do not.

use std::ops::Deref;
use std::time::Duration;

pub use push::receiver::Received;

pub struct PushReceiver(push::receiver::PushReceiver);

impl Deref for PushReceiver {
    type Target = push::receiver::PushReceiver;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl PushReceiver {
    pub async fn start() -> PushReceiver {
        PushReceiver(push::receiver::PushReceiver::start().await.unwrap())
    }

    /// Waits until `count` pushes have arrived in all (or five seconds).
    pub async fn until(&self, count: usize) -> Vec<Received> {
        let received = self.0.wait_for(count, Duration::from_secs(5)).await;
        received.unwrap_or_else(|came| panic!("{count} pushes expected, got {came:?}"))
    }
}
