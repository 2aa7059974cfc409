//! What the host and every policy it loaded share to evaluate: the wasmtime engine, the epoch
//! ticker, the instance slots, the default limits and whether fuel is metered. A loaded policy
//! keeps it alive.

use crate::epoch::EpochTicker;
use crate::limits::Limits;
use crate::slots::PoolSlots;
use wasmtime::Engine;

#[derive(Debug)]
pub(crate) struct Runtime {
    pub engine: Engine,
    pub ticker: EpochTicker,
    pub slots: PoolSlots,
    pub limits: Limits,
    pub fuel_metering: bool,
}
