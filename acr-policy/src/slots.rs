//! The instance pool's slots as a counting gate: an evaluation takes a slot before its store
//! exists and gives it back after the store is gone, so more concurrent evaluations than slots
//! wait for one instead of failing.

use std::sync::{Condvar, Mutex, PoisonError};

/// The free slots of one host's instance pool.
#[derive(Debug)]
pub struct PoolSlots {
    free: Mutex<u32>,
    freed: Condvar,
}

impl PoolSlots {
    pub fn new(slots: u32) -> Self {
        Self {
            free: Mutex::new(slots),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free slot and holds it until the returned guard is dropped.
    pub fn take(&self) -> SlotTaken<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        SlotTaken { slots: self }
    }
}

/// One slot in use.
#[derive(Debug)]
pub struct SlotTaken<'slots> {
    slots: &'slots PoolSlots,
}

impl Drop for SlotTaken<'_> {
    fn drop(&mut self) {
        *self
            .slots
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn no_more_than_the_slots_are_taken_at_once() {
        let slots = PoolSlots::new(2);
        let (in_use, most) = (AtomicU32::new(0), AtomicU32::new(0));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let _taken = slots.take();
                    let now = in_use.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    in_use.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
