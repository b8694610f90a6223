//! git's work that runs while forkdrift reads: the next upgrade's merges during the history
//! walks, the scan of upstream's commits during the own commits' reading, the conflicts' blame
//! during upstream matching. Each needs nothing the reading in between makes, and git's
//! processes take the cores that reading leaves idle.

use std::thread::JoinHandle;

/// A job on a thread of its own. Its result is taken with [`Background::finish`]; a run that
/// fails before then still waits for it, so that the job's git processes end and its scratch
/// objects are removed before the process does.
pub struct Background<T: Send + 'static> {
    running: Option<JoinHandle<T>>,
}

impl<T: Send + 'static> Background<T> {
    pub fn start(job: impl FnOnce() -> T + Send + 'static) -> Background<T> {
        Background {
            running: Some(std::thread::spawn(job)),
        }
    }

    pub fn finish(mut self) -> T {
        let running = self.running.take().expect("a job is finished once");
        running
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl<T: Send + 'static> Drop for Background<T> {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_job_left_unfinished_is_waited_for() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let job = Background::start(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            flag.store(true, Ordering::SeqCst);
        });
        drop(job);
        assert!(done.load(Ordering::SeqCst));
        assert_eq!(Background::start(|| 6 * 7).finish(), 42);
    }
}
