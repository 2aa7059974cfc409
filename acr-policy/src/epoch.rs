//! The epoch ticker behind wall-time deadlines: one thread per host advances the engine's
//! epoch every [`EPOCH_TICK`], but only while at least one evaluation is running.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use wasmtime::Engine;

/// How often the epoch advances while evaluations run; deadlines are rounded up to it.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// The most ticks a deadline may be: wasmtime adds it to the current epoch, which must not
/// overflow, and half the range is never reached in practice.
const MAX_DEADLINE_TICKS: u64 = u64::MAX / 2;

/// The number of ticks after which a store whose deadline is `deadline` traps. One tick is
/// added because the first tick may come at any moment after the deadline is set.
pub fn deadline_ticks(deadline: Duration) -> u64 {
    let ticks = deadline.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) + 1;
    u64::try_from(ticks).map_or(MAX_DEADLINE_TICKS, |ticks| ticks.min(MAX_DEADLINE_TICKS))
}

#[derive(Debug, Default)]
struct TickerState {
    running_evaluations: AtomicUsize,
    shutting_down: AtomicBool,
}

/// Owns the ticker thread; dropping it stops and joins the thread.
///
/// Starting and ending an evaluation are an atomic add and subtract; only the first evaluation
/// after the ticker went idle wakes it, so evaluations in a loop make no system calls for it.
#[derive(Debug)]
pub struct EpochTicker {
    state: Arc<TickerState>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        let state = Arc::new(TickerState::default());
        let thread_state = Arc::clone(&state);
        let thread = thread::Builder::new()
            .name("acr-policy-epoch".to_owned())
            .spawn(move || tick_while_evaluating(&engine, &thread_state))?;
        Ok(Self {
            state,
            thread: Some(thread),
        })
    }

    /// Marks an evaluation as running until the returned guard is dropped.
    pub fn evaluation_running(&self) -> RunningEvaluation<'_> {
        if self
            .state
            .running_evaluations
            .fetch_add(1, Ordering::SeqCst)
            == 0
        {
            self.wake();
        }
        RunningEvaluation { ticker: self }
    }

    /// Wakes the ticker if it is parked; otherwise its next park returns at once.
    fn wake(&self) {
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

/// Advances the epoch every tick while an evaluation runs, and parks while none does. An
/// evaluation that starts between the check and the park has already unparked the thread,
/// which makes that park return at once. Between ticks the thread parks with a timeout rather
/// than sleeping, so dropping the ticker wakes it at once instead of waiting out a tick (which
/// every process would otherwise spend at exit); an early wake only shortens the wait, and the
/// epoch still advances once per whole tick.
fn tick_while_evaluating(engine: &Engine, state: &TickerState) {
    let mut next_tick = None;
    while !state.shutting_down.load(Ordering::SeqCst) {
        if state.running_evaluations.load(Ordering::SeqCst) == 0 {
            next_tick = None;
            thread::park();
            continue;
        }
        let now = Instant::now();
        let due = *next_tick.get_or_insert(now + EPOCH_TICK);
        if now >= due {
            engine.increment_epoch();
            next_tick = Some(due + EPOCH_TICK);
        } else {
            thread::park_timeout(due - now);
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.state.shutting_down.store(true, Ordering::SeqCst);
        self.wake();
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps, parks and increments; it cannot panic.
            let _ = thread.join();
        }
    }
}

/// Keeps the ticker running for one evaluation.
#[derive(Debug)]
pub struct RunningEvaluation<'ticker> {
    ticker: &'ticker EpochTicker,
}

impl Drop for RunningEvaluation<'_> {
    fn drop(&mut self) {
        self.ticker
            .state
            .running_evaluations
            .fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_ticks_plus_one() {
        assert_eq!(deadline_ticks(Duration::from_millis(2)), 2);
        assert_eq!(deadline_ticks(Duration::from_millis(3)), 3);
        assert_eq!(deadline_ticks(Duration::ZERO), 1);
        assert_eq!(deadline_ticks(Duration::MAX), u64::MAX / 2);
    }
}
