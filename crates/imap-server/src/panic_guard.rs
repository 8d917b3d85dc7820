//! A panic while handling one command becomes a value, so the session can answer the client
//! and log it rather than the connection vanishing without a word.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// `inner`'s output, or the panic message when polling it panicked.
pub(crate) struct CatchPanic<F> {
    inner: Pin<Box<F>>,
}

pub(crate) fn catch_panic<F: Future>(inner: F) -> CatchPanic<F> {
    CatchPanic { inner: Box::pin(inner) }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().inner.as_mut();
        // The session that owned the future is ended after a panic, so no broken state is
        // observed again.
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_its_message() {
        assert_eq!(catch_panic(async { 7 }).await, Ok(7));
        let caught = catch_panic(async {
            tokio::task::yield_now().await;
            let empty: &[u8] = &[];
            usize::from(empty[empty.len().wrapping_sub(1) % 2])
        })
        .await;
        assert!(caught.unwrap_err().contains("index out of bounds"));
    }
}
