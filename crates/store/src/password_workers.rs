//! A small fixed set of threads for Argon2id checks and hashes, each with its own working memory.
//!
//! An Argon2id check takes tens of milliseconds of CPU and 19 MiB of memory. Run on the async
//! threads it would stall every session sharing them; run on tokio's blocking pool it would
//! allocate its 19 MiB on whichever of up to 512 threads picked it up, and the allocator keeps
//! that memory per thread: 10 seconds of logons made the server 900 MiB larger for good. Here
//! [`WORKERS`] threads at most run the checks, each reusing one [`Argon2Memory`], so the memory
//! is bounded by `WORKERS × 19 MiB` and given back after [`IDLE_RELEASE`] without work. Extra
//! requests wait in a queue, in order.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use altimail_core::password::Argon2Memory;
use tokio::sync::oneshot;

/// How long a worker keeps its working memory without a job.
pub(crate) const IDLE_RELEASE: Duration = Duration::from_secs(30);

/// The number of worker threads: the CPUs, at most 4. More would not check passwords faster
/// than the CPUs can, only hold more memory.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).min(4)
}

type Job = Box<dyn FnOnce(&mut Argon2Memory) + Send>;

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<&'static Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let queue: &'static Queue =
            Box::leak(Box::new(Queue { jobs: Mutex::new(VecDeque::new()), ready: Condvar::new() }));
        for n in 0..workers() {
            let spawned = std::thread::Builder::new().name(format!("password-{n}")).spawn(move || work(queue));
            if let Err(e) = spawned {
                // With no worker at all, checks would wait for ever: fail loudly at the first.
                assert!(n > 0, "cannot start a password thread: {e}");
                tracing::warn!("password threads: started {n} of {}: {e}", workers());
                break;
            }
        }
        queue
    })
}

fn work(queue: &'static Queue) {
    let mut memory = Argon2Memory::new();
    let mut jobs = queue.jobs.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if let Some(job) = jobs.pop_front() {
            drop(jobs);
            job(&mut memory);
            jobs = queue.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        let (guard, waited) = queue.ready.wait_timeout(jobs, IDLE_RELEASE).unwrap_or_else(PoisonError::into_inner);
        jobs = guard;
        if waited.timed_out() && jobs.is_empty() {
            memory.release();
        }
    }
}

/// Runs `f` on a password thread with that thread's working memory and returns its result.
/// `None` when the caller is gone before it ran (it is then skipped) or when `f` panicked.
pub(crate) async fn run<T, F>(f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Argon2Memory) -> T + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |memory| {
        // A client that disconnected while waiting does not cost a check.
        if tx.is_closed() {
            return;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(memory)));
        if let Ok(result) = result {
            let _ = tx.send(result);
        }
    });
    let queue = queue();
    queue.jobs.lock().unwrap_or_else(PoisonError::into_inner).push_back(job);
    queue.ready.notify_one();
    rx.await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    use altimail_core::password::{self, PasswordScheme};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_run_on_the_fixed_threads_and_keep_their_memory() {
        let stored = password::hash(PasswordScheme::Argon2id, "pw");
        let mut checks = Vec::new();
        for i in 0..12 {
            let stored = stored.clone();
            let password = if i % 3 == 0 { "wrong" } else { "pw" };
            checks.push(tokio::spawn(run(move |memory| {
                let ok = password::verify_with(memory, 10, &stored, password);
                let thread = std::thread::current().name().unwrap_or_default().to_owned();
                (ok, thread, memory.held_bytes())
            })));
        }
        let mut threads = std::collections::HashSet::new();
        for (i, check) in checks.into_iter().enumerate() {
            let (ok, thread, held) = check.await.unwrap().unwrap();
            assert_eq!(ok, i % 3 != 0);
            assert!(thread.starts_with("password-"), "{thread}");
            assert_eq!(held, 19 * 1024 * 1024);
            threads.insert(thread);
        }
        assert!(threads.len() <= workers(), "{threads:?}");
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_take_a_worker_down() {
        assert_eq!(run(|_| -> u8 { panic!("boom") }).await, None);
        for _ in 0..workers() * 2 {
            assert_eq!(run(|_| 7).await, Some(7));
        }
    }
}
