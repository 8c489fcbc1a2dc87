//! Parallel row-chunk driver: rayon over fixed-size chunks, in batches, polling an
//! [`Interrupt`] on the calling thread between batches (never per element).
//!
//! Chunk boundaries depend only on the chunk size, never on the thread count, so
//! every output element is computed by the same operations whatever the pool.

use crate::error::Result;
use faer::MatMut;
use rayon::prelude::*;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often [`Context::run_interruptible`] polls the interrupt while it waits.
pub const WAIT_POLL: Duration = Duration::from_millis(50);

/// Something that can ask a long computation to stop (Ctrl-C in Python).
///
/// `check` is called on the thread that started the computation, between batches
/// of chunks.
pub trait Interrupt: Sync {
    /// Returns `Err(Error::Interrupted)` when the computation should stop.
    fn check(&self) -> Result<()>;
}

/// An [`Interrupt`] that never fires.
pub struct NeverInterrupt;

impl Interrupt for NeverInterrupt {
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// Where and how a computation runs: the thread pool and the interrupt to poll.
pub struct Context<'a> {
    pool: Option<&'a rayon::ThreadPool>,
    interrupt: &'a dyn Interrupt,
}

impl<'a> Context<'a> {
    /// A context on `pool` (the global rayon pool when `None`) polling `interrupt`.
    pub fn new(pool: Option<&'a rayon::ThreadPool>, interrupt: &'a dyn Interrupt) -> Self {
        Self { pool, interrupt }
    }

    /// A context on the global pool that is never interrupted (tests, Rust callers).
    pub fn global() -> Context<'static> {
        Context {
            pool: None,
            interrupt: &NeverInterrupt,
        }
    }

    fn n_threads(&self) -> usize {
        self.pool
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
    }

    /// Runs `f` on this context's pool (rayon calls inside it use that pool).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Calls `work(first_row, rows)` on consecutive chunks of `rows_per_chunk` rows
    /// of the row-major buffer `out` (rows of `row_len` elements), in parallel.
    ///
    /// The interrupt is polled between batches of a few chunks per thread; the
    /// first error (or the interrupt) stops the remaining batches.
    pub fn for_each_row_chunk<T: Send>(
        &self,
        out: &mut [T],
        row_len: usize,
        rows_per_chunk: usize,
        work: impl Fn(usize, &mut [T]) -> Result<()> + Sync,
    ) -> Result<()> {
        let chunk_len = (row_len * rows_per_chunk).max(1);
        let chunks = out.chunks_mut(chunk_len).enumerate();
        self.for_each_task(chunks, |(i, rows)| work(i * rows_per_chunk, rows))
    }

    /// As [`Context::for_each_row_chunk`], on the row blocks of the matrix `out`
    /// (any layout): `work(first_row, block)` with blocks of `rows_per_block` rows.
    pub fn for_each_row_block<T: Send>(
        &self,
        out: MatMut<'_, T>,
        rows_per_block: usize,
        work: impl Fn(usize, MatMut<'_, T>) -> Result<()> + Sync,
    ) -> Result<()> {
        let rows_per_block = rows_per_block.max(1);
        let mut blocks = Vec::with_capacity(out.nrows().div_ceil(rows_per_block));
        let mut rest = out;
        while rest.nrows() > 0 {
            let height = rows_per_block.min(rest.nrows());
            let (block, below) = rest.split_at_row_mut(height);
            blocks.push(block);
            rest = below;
        }
        let blocks = blocks.into_iter().enumerate();
        self.for_each_task(blocks, |(i, block)| work(i * rows_per_block, block))
    }

    /// Runs `job` (one long computation that cannot poll the interrupt itself, such
    /// as an eigendecomposition) as a task on this context's pool and waits for it,
    /// polling the interrupt every [`WAIT_POLL`]. On an interrupt it returns
    /// `Err(Interrupted)` at once; the task then runs to its end in the background
    /// and its result is dropped. Called from a thread of the pool (where waiting
    /// would hold a worker the task may need), it runs `job` inline instead.
    ///
    /// A panic in `job` is resumed on the calling thread.
    pub fn run_interruptible<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let in_pool = match self.pool {
            Some(pool) => pool.current_thread_index().is_some(),
            None => rayon::current_thread_index().is_some(),
        };
        if in_pool {
            return job();
        }
        self.interrupt.check()?;
        let (sender, receiver) = mpsc::channel();
        let task = move || {
            // The receiver is gone if the caller was interrupted: nothing to report.
            let _ = sender.send(panic::catch_unwind(AssertUnwindSafe(job)));
        };
        match self.pool {
            Some(pool) => pool.spawn(task),
            None => rayon::spawn(task),
        }
        loop {
            match receiver.recv_timeout(WAIT_POLL) {
                Ok(Ok(result)) => return result,
                Ok(Err(payload)) => panic::resume_unwind(payload),
                Err(RecvTimeoutError::Timeout) => self.interrupt.check()?,
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("the task sends its outcome before dropping the sender")
                }
            }
        }
    }

    /// Runs `work` on every task, in parallel batches of a few tasks per thread,
    /// polling the interrupt before each batch and after the last.
    pub fn for_each_task<W: Send>(
        &self,
        tasks: impl Iterator<Item = W>,
        work: impl Fn(W) -> Result<()> + Sync,
    ) -> Result<()> {
        let batch_len = 4 * self.n_threads();
        let mut tasks = tasks.peekable();
        while tasks.peek().is_some() {
            self.interrupt.check()?;
            let batch: Vec<W> = tasks.by_ref().take(batch_len).collect();
            self.install(|| batch.into_par_iter().try_for_each(&work))?;
        }
        self.interrupt.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_row_is_visited_once_with_its_index() {
        for n_rows in [0usize, 1, 2, 7, 33, 1000] {
            let mut out = vec![usize::MAX; n_rows * 3];
            Context::global()
                .for_each_row_chunk(&mut out, 3, 5, |first, rows| {
                    for (i, row) in rows.chunks_mut(3).enumerate() {
                        row.fill(first + i);
                    }
                    Ok(())
                })
                .unwrap();
            let expected: Vec<usize> = (0..n_rows).flat_map(|i| [i; 3]).collect();
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn every_row_block_is_visited_once_with_its_index() {
        for n_rows in [0usize, 1, 2, 7, 33, 1000] {
            let mut out = faer::Mat::<usize>::from_fn(n_rows, 3, |_, _| usize::MAX);
            Context::global()
                .for_each_row_block(out.as_mut(), 5, |first, mut block| {
                    for i in 0..block.nrows() {
                        for j in 0..block.ncols() {
                            block[(i, j)] = first + i;
                        }
                    }
                    Ok(())
                })
                .unwrap();
            assert!((0..n_rows).all(|i| (0..3).all(|j| out[(i, j)] == i)));
        }
    }

    struct AfterCalls(AtomicUsize);
    impl Interrupt for AfterCalls {
        fn check(&self) -> Result<()> {
            if self.0.fetch_sub(1, Ordering::SeqCst) == 0 {
                Err(Error::Interrupted)
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn an_interrupt_stops_the_loop() {
        let stop = AfterCalls(AtomicUsize::new(1));
        let ctx = Context::new(None, &stop);
        let mut out = vec![0u8; 1 << 20];
        let result = ctx.for_each_row_chunk(&mut out, 1, 1, |_, _| Ok(()));
        assert_eq!(result, Err(Error::Interrupted));
    }

    #[test]
    fn an_interrupt_returns_while_the_detached_job_still_runs() {
        // The job blocks until released, so only the interrupt can end the wait.
        let (release, blocked) = mpsc::channel::<()>();
        let stop = AfterCalls(AtomicUsize::new(1));
        let ctx = Context::new(None, &stop);
        let result = ctx.run_interruptible(move || {
            blocked.recv().expect("released by the test");
            Ok(1)
        });
        assert_eq!(result, Err(Error::Interrupted));
        release.send(()).unwrap();
        assert_eq!(Context::global().run_interruptible(|| Ok(7)), Ok(7));
    }

    #[test]
    fn run_interruptible_runs_inline_on_its_own_pool_and_resumes_panics() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let ctx = Context::new(Some(&pool), &NeverInterrupt);
        // On a one-thread pool a detached task would wait for the waiting thread.
        assert_eq!(pool.install(|| ctx.run_interruptible(|| Ok(3))), Ok(3));
        let panicked = panic::catch_unwind(AssertUnwindSafe(|| {
            ctx.run_interruptible::<()>(|| panic!("inside the job"))
        }));
        assert!(panicked.is_err());
        assert_eq!(ctx.run_interruptible(|| Ok(5)), Ok(5));
    }
}
