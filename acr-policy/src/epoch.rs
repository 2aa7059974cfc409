//! The epoch ticker behind wall-time deadlines: one thread per host advances the engine's
//! epoch every [`EPOCH_TICK`], but only while at least one evaluation is running.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;
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
struct TickerControl {
    running_evaluations: usize,
    shutting_down: bool,
}

#[derive(Debug, Default)]
struct TickerState {
    control: Mutex<TickerControl>,
    changed: Condvar,
}

impl TickerState {
    fn lock(&self) -> MutexGuard<'_, TickerControl> {
        // The control data stays consistent even if a holder panicked.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Owns the ticker thread; dropping it stops and joins the thread.
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
        self.state.lock().running_evaluations += 1;
        self.state.changed.notify_one();
        RunningEvaluation { ticker: self }
    }
}

fn tick_while_evaluating(engine: &Engine, state: &TickerState) {
    loop {
        {
            let mut control = state.lock();
            while control.running_evaluations == 0 && !control.shutting_down {
                control = state
                    .changed
                    .wait(control)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if control.shutting_down {
                return;
            }
        }
        thread::sleep(EPOCH_TICK);
        engine.increment_epoch();
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.state.lock().shutting_down = true;
        self.state.changed.notify_one();
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps, waits and increments; it cannot panic.
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
        self.ticker.state.lock().running_evaluations -= 1;
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
