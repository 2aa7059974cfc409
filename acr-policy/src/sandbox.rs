//! One evaluation's sandbox: a fresh `Store` instantiated from the policy's shared
//! `InstancePre`, with the deadline, memory, log and fuel limits applied, and the ABI v1
//! calls that pass JSON through linear memory.

use crate::epoch::{EpochTicker, deadline_ticks};
use crate::error::{AbiCall, PolicyError, PolicyErrorKind};
use crate::inspect::AbiExports;
use crate::limits::Limits;
use crate::slots::PoolSlots;
use wasmtime::{
    Caller, Engine, Extern, Instance, InstancePre, Linker, Memory, ModuleExport, ResourceLimiter,
    Store, Trap, TypedFunc, WasmParams, WasmResults,
};

/// Tables a module may have and elements each may grow to: enough for any compiled
/// language's indirect calls, small enough not to matter.
pub(crate) const MAX_TABLES: usize = 4;
pub(crate) const MAX_TABLE_ELEMENTS: usize = 100_000;

/// A limit hit inside a host callback, carried through wasmtime's error back to us.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SandboxViolation(PolicyErrorKind);

/// Everything a store carries: limits being enforced and what the module logged.
#[derive(Debug)]
pub struct SandboxState {
    memory_limit: usize,
    max_log_messages: usize,
    max_log_bytes: usize,
    logged_bytes: usize,
    logs: Vec<String>,
}

impl SandboxState {
    fn new(limits: &Limits) -> Self {
        Self {
            memory_limit: limits.memory_bytes,
            max_log_messages: limits.max_log_messages,
            max_log_bytes: limits.max_log_bytes,
            logged_bytes: 0,
            logs: Vec::new(),
        }
    }

    fn record_log(&mut self, memory: &[u8], ptr: i32, len: i32) -> Result<(), PolicyErrorKind> {
        if self.logs.len() >= self.max_log_messages {
            return Err(PolicyErrorKind::LogMessages {
                limit: self.max_log_messages,
            });
        }
        let bytes = read_bounded(memory, ptr as u32, len as u32)?;
        if self.logged_bytes + bytes.len() > self.max_log_bytes {
            return Err(PolicyErrorKind::LogBytes {
                limit: self.max_log_bytes,
            });
        }
        self.logged_bytes += bytes.len();
        self.logs.push(String::from_utf8_lossy(bytes).into_owned());
        Ok(())
    }
}

impl ResourceLimiter for SandboxState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            return Err(wasmtime::Error::new(SandboxViolation(
                PolicyErrorKind::Memory {
                    limit: self.memory_limit,
                    requested: desired,
                },
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        1
    }
}

/// `len` bytes at `ptr` of `memory`, or the out-of-bounds error naming them.
fn read_bounded(memory: &[u8], ptr: u32, len: u32) -> Result<&[u8], PolicyErrorKind> {
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| memory.get(start..end))
        .ok_or(PolicyErrorKind::OutOfBounds {
            ptr,
            len,
            memory_size: memory.len(),
        })
}

/// The linker every policy is pre-linked with: `acr.log` and nothing else.
pub fn policy_linker(engine: &Engine) -> wasmtime::Result<Linker<SandboxState>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(
        "acr",
        "log",
        |mut caller: Caller<'_, SandboxState>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
                return Err(wasmtime::Error::new(SandboxViolation(
                    PolicyErrorKind::MissingExport { name: "memory" },
                )));
            };
            let (data, state) = memory.data_and_store_mut(&mut caller);
            state
                .record_log(data, ptr, len)
                .map_err(|kind| wasmtime::Error::new(SandboxViolation(kind)))
        },
    )?;
    Ok(linker)
}

/// The ABI v1 exports that take JSON and answer JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonEntry {
    Evaluate,
    ValidateSettings,
}

impl JsonEntry {
    fn call(self) -> AbiCall {
        match self {
            Self::Evaluate => AbiCall::Evaluate,
            Self::ValidateSettings => AbiCall::ValidateSettings,
        }
    }

    fn export_name(self) -> &'static str {
        match self {
            Self::Evaluate => "acr_evaluate",
            Self::ValidateSettings => "acr_validate_settings",
        }
    }

    fn export(self, exports: &AbiExports) -> Option<ModuleExport> {
        match self {
            Self::Evaluate => Some(exports.evaluate),
            Self::ValidateSettings => exports.validate_settings,
        }
    }
}

/// What a sandbox needs from the host and the loaded policy.
pub struct SandboxSpec<'a> {
    pub engine: &'a Engine,
    pub ticker: &'a EpochTicker,
    /// The instance pool's slots; one is held while the store exists.
    pub slots: &'a PoolSlots,
    pub instance_pre: &'a InstancePre<SandboxState>,
    /// Where the module's exports are, found when it was loaded.
    pub exports: &'a AbiExports,
    pub fuel_metering: bool,
    /// The name errors give the policy.
    pub policy: &'a str,
}

/// The result of one sandboxed call, and what the module logged on the way.
#[derive(Debug)]
pub struct SandboxRun<T> {
    pub result: Result<T, PolicyError>,
    pub logs: Vec<String>,
}

impl SandboxSpec<'_> {
    /// Instantiates and calls `acr_abi_version`.
    pub fn abi_version(&self, limits: &Limits) -> SandboxRun<i32> {
        self.with_instance(limits, |store, instance| {
            let version = self.function::<(), i32>(
                store,
                instance,
                self.exports.abi_version,
                AbiCall::AbiVersion,
                "acr_abi_version",
            )?;
            version
                .call(&mut *store, ())
                .map_err(|error| self.classify(error, store.data(), limits, AbiCall::AbiVersion))
        })
    }

    /// Instantiates, copies `input` in through `acr_alloc`, calls `entry` and copies its
    /// answer out.
    pub fn call_json(
        &self,
        limits: &Limits,
        entry: JsonEntry,
        input: &[u8],
    ) -> SandboxRun<Vec<u8>> {
        let call = entry.call();
        let input_len = match i32::try_from(input.len()) {
            Ok(len) if input.len() <= limits.max_input_bytes => len,
            _ => {
                return SandboxRun {
                    result: Err(PolicyError::new(
                        self.policy,
                        PolicyErrorKind::InputTooLarge {
                            len: input.len(),
                            limit: limits.max_input_bytes,
                        },
                    )),
                    logs: Vec::new(),
                };
            }
        };
        self.with_instance(limits, |store, instance| {
            let memory = self.memory(store, instance, call)?;
            let alloc = self.function::<i32, i32>(
                store,
                instance,
                self.exports.alloc,
                AbiCall::Alloc,
                "acr_alloc",
            )?;
            let name = entry.export_name();
            let export = entry.export(self.exports).ok_or_else(|| {
                PolicyError::during(self.policy, call, PolicyErrorKind::MissingExport { name })
            })?;
            let entry = self.function::<(i32, i32), i64>(store, instance, export, call, name)?;

            let input_ptr = alloc
                .call(&mut *store, input_len)
                .map_err(|error| self.classify(error, store.data(), limits, AbiCall::Alloc))?;
            memory
                .write(&mut *store, input_ptr as u32 as usize, input)
                .map_err(|_| {
                    PolicyError::during(
                        self.policy,
                        AbiCall::Alloc,
                        PolicyErrorKind::OutOfBounds {
                            ptr: input_ptr as u32,
                            len: input_len as u32,
                            memory_size: memory.data_size(&*store),
                        },
                    )
                })?;

            let packed = entry
                .call(&mut *store, (input_ptr, input_len))
                .map_err(|error| self.classify(error, store.data(), limits, call))?;
            let packed = packed as u64;
            let (output_ptr, output_len) = ((packed >> 32) as u32, packed as u32);
            if output_len as usize > limits.max_output_bytes {
                return Err(PolicyError::during(
                    self.policy,
                    call,
                    PolicyErrorKind::OutputTooLarge {
                        len: output_len as usize,
                        limit: limits.max_output_bytes,
                    },
                ));
            }
            read_bounded(memory.data(&*store), output_ptr, output_len)
                .map(<[u8]>::to_vec)
                .map_err(|kind| PolicyError::during(self.policy, call, kind))
        })
    }

    fn memory(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        call: AbiCall,
    ) -> Result<Memory, PolicyError> {
        instance
            .get_module_export(&mut *store, &self.exports.memory)
            .and_then(Extern::into_memory)
            .ok_or_else(|| {
                PolicyError::during(
                    self.policy,
                    call,
                    PolicyErrorKind::MissingExport { name: "memory" },
                )
            })
    }

    /// The exported function at `export` of `instance`, typed.
    fn function<Params: WasmParams, Results: WasmResults>(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        export: ModuleExport,
        call: AbiCall,
        name: &'static str,
    ) -> Result<TypedFunc<Params, Results>, PolicyError> {
        let function = instance
            .get_module_export(&mut *store, &export)
            .and_then(Extern::into_func)
            .ok_or_else(|| {
                PolicyError::during(self.policy, call, PolicyErrorKind::MissingExport { name })
            })?;
        function
            .typed(&*store)
            .map_err(|error| self.host_error(call, &error))
    }

    /// A fresh store with the limits applied, instantiated (running any start function), handed
    /// to `body`; the logs are collected whatever happens. The store lives in a pool slot taken
    /// before it is made and given back after it is dropped.
    fn with_instance<T>(
        &self,
        limits: &Limits,
        body: impl FnOnce(&mut Store<SandboxState>, &Instance) -> Result<T, PolicyError>,
    ) -> SandboxRun<T> {
        let _slot = self.slots.take();
        let mut store = Store::new(self.engine, SandboxState::new(limits));
        store.limiter(|state| state as &mut dyn ResourceLimiter);
        if let Err(error) = self.configure_fuel(&mut store, limits) {
            return SandboxRun {
                result: Err(error),
                logs: Vec::new(),
            };
        }
        let running = self.ticker.evaluation_running();
        store.set_epoch_deadline(deadline_ticks(limits.deadline));
        let result = match self.instance_pre.instantiate(&mut store) {
            Ok(instance) => body(&mut store, &instance),
            Err(error) => Err(self.classify(error, store.data(), limits, AbiCall::Instantiation)),
        };
        drop(running);
        SandboxRun {
            result,
            logs: std::mem::take(&mut store.data_mut().logs),
        }
    }

    fn configure_fuel(
        &self,
        store: &mut Store<SandboxState>,
        limits: &Limits,
    ) -> Result<(), PolicyError> {
        match (self.fuel_metering, limits.fuel) {
            (true, fuel) => store.set_fuel(fuel.unwrap_or(u64::MAX)).map_err(|error| {
                PolicyError::new(
                    self.policy,
                    PolicyErrorKind::Host {
                        message: error.to_string(),
                    },
                )
            }),
            (false, Some(_)) => Err(PolicyError::new(
                self.policy,
                PolicyErrorKind::FuelMeteringOff,
            )),
            (false, None) => Ok(()),
        }
    }

    /// Turns a wasmtime error into the limit or trap it stands for.
    fn classify(
        &self,
        error: wasmtime::Error,
        state: &SandboxState,
        limits: &Limits,
        call: AbiCall,
    ) -> PolicyError {
        let kind = match error.downcast::<SandboxViolation>() {
            Ok(SandboxViolation(kind)) => kind,
            Err(error) => match error.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => PolicyErrorKind::Deadline {
                    deadline: limits.deadline,
                },
                Some(Trap::OutOfFuel) => PolicyErrorKind::Fuel {
                    fuel: limits.fuel.unwrap_or(u64::MAX),
                },
                Some(Trap::StackOverflow) => PolicyErrorKind::Stack,
                Some(trap) => PolicyErrorKind::Trap {
                    trap: trap.to_string(),
                    last_log: state.logs.last().cloned(),
                },
                None => PolicyErrorKind::Host {
                    message: error.to_string(),
                },
            },
        };
        PolicyError::during(self.policy, call, kind)
    }

    fn host_error(&self, call: AbiCall, error: &wasmtime::Error) -> PolicyError {
        PolicyError::during(
            self.policy,
            call,
            PolicyErrorKind::Host {
                message: error.to_string(),
            },
        )
    }
}
