//! The policy host: one wasmtime engine, the `acr.log` linker, the epoch ticker, the built-in
//! policies' precompiled code, and the in-process and on-disk caches of compiled modules;
//! loading checks a module against ABI v1.

use crate::builtin::{builtin_hash, precompiled_code};

use crate::cache::{CacheProblem, DiskCache, ModuleHash};
use crate::engine_config::{engine_config, engine_key};
use crate::epoch::EpochTicker;
use crate::error::{AbiCall, HostError, PolicyError, PolicyErrorKind};
use crate::inspect::{check_abi_types, read_metadata_and_check_imports};
use crate::limits::Limits;
use crate::policy::{LoadedPolicy, ModuleOrigin};
use crate::runtime::Runtime;
use crate::sandbox::{MAX_TABLE_ELEMENTS, MAX_TABLES, SandboxSpec, SandboxState, policy_linker};
use crate::slots::PoolSlots;
use crate::trusted_code::{self, TrustedCode};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use wasm_guest::ABI_VERSION;
use wasmtime::{
    Enabled, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig,
};

/// The target triple this crate is built for, which the engine compiles for (set by `build.rs`).
const TARGET: &str = env!("ACR_POLICY_TARGET");

/// Linear memory a pool slot keeps mapped between evaluations, zeroed with `memset` (only the
/// pages written, where the kernel can say which) instead of being unmapped and faulted in
/// again: most of an evaluation's cost otherwise.
const MEMORY_KEPT_RESIDENT: usize = 4 << 20;

/// Table bytes a pool slot keeps mapped between evaluations, zeroed with `memset` like memory.
/// Decommitting instead cost every evaluation an `madvise` and then a page fault, with a TLB
/// shootdown, on the first indirect call (8192 entries: far more than a policy's table).
const TABLE_KEPT_RESIDENT: usize = 64 << 10;

/// How to build a [`PolicyHost`].
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// Where compiled modules are cached between runs; `None` compiles every run.
    pub cache_dir: Option<PathBuf>,
    /// The limits [`LoadedPolicy::evaluate`] applies; per-call limits can override them.
    pub limits: Limits,
    /// Count fuel so [`Limits::fuel`] can be used. Costs some speed in every evaluation, and
    /// the built-in policies' precompiled code does not fit such an engine: they are compiled.
    pub fuel_metering: bool,
    /// Evaluations (and trial instances of loads) that may run at the same time, each in a
    /// slot of the instance pool; more wait for a free slot. Each slot reserves about 4 GiB
    /// of address space (not memory) when the host starts, so this bounds the host's
    /// reservation, for example under `ulimit -v`. `0` means 1, the default: the tools
    /// evaluate one policy at a time.
    pub concurrent_evaluations: u32,
}

/// Loads and runs policy modules. Cheap to share: loaded policies keep the host alive.
#[derive(Debug, Clone)]
pub struct PolicyHost {
    shared: Arc<HostShared>,
}

/// What the host and every policy it loaded share.
#[derive(Debug)]
struct HostShared {
    runtime: Arc<Runtime>,
    linker: Linker<SandboxState>,
    engine_key: [u8; 32],
    cache_dir: Option<PathBuf>,
    /// Opened on the first module that must be compiled, so runs with only built-ins never
    /// touch the cache folder.
    disk_cache: OnceLock<Result<DiskCache, Arc<CacheProblem>>>,
    /// One cell per module hash: whoever gets a cell first compiles the module while other
    /// hashes compile in parallel, and loads of the same hash wait for that one compilation.
    compiled: Mutex<HashMap<ModuleHash, Arc<CompiledCell>>>,
}

/// A module compiled (or refused) once for a host.
type CompiledCell = OnceLock<Result<Module, PolicyErrorKind>>;

impl PolicyHost {
    pub fn new(config: HostConfig) -> Result<Self, HostError> {
        let engine_error = |error: wasmtime::Error| HostError::Engine {
            message: error.to_string(),
        };
        let slots = config.concurrent_evaluations.max(1);
        let mut wasmtime_config =
            engine_config(TARGET, config.fuel_metering).map_err(engine_error)?;
        wasmtime_config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(instance_pool(slots)));
        let engine = Engine::new(&wasmtime_config).map_err(engine_error)?;
        let engine_key = engine_key(&engine);
        let linker = policy_linker(&engine).map_err(|error| HostError::Engine {
            message: error.to_string(),
        })?;
        let ticker = EpochTicker::start(engine.clone()).map_err(HostError::Ticker)?;
        Ok(Self {
            shared: Arc::new(HostShared {
                runtime: Arc::new(Runtime {
                    engine,
                    ticker,
                    slots: PoolSlots::new(slots),
                    limits: config.limits,
                    fuel_metering: config.fuel_metering,
                }),
                linker,
                engine_key,
                cache_dir: config.cache_dir,
                disk_cache: OnceLock::new(),
                compiled: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The limits evaluations get unless told otherwise.
    pub fn limits(&self) -> &Limits {
        &self.shared.runtime.limits
    }

    /// Why the on-disk cache is not in use, when a cache directory was given but cannot be
    /// used; modules are then compiled every run. Opens the cache if no load has yet.
    pub fn cache_problem(&self) -> Option<&CacheProblem> {
        self.disk_cache()?.as_ref().err().map(Arc::as_ref)
    }

    fn disk_cache(&self) -> Option<&Result<DiskCache, Arc<CacheProblem>>> {
        let dir = self.shared.cache_dir.as_deref()?;
        Some(
            self.shared.disk_cache.get_or_init(|| {
                DiskCache::open(dir, &self.shared.runtime.engine).map_err(Arc::new)
            }),
        )
    }

    /// Checks and prepares a module. `source` names it in errors until its metadata is read
    /// (a path, `builtin:NAME`, a URL).
    ///
    /// In order: the metadata section and imports are read without compiling; the module is
    /// compiled (or taken from a cache); import and export types are checked; and one trial
    /// instance, under the default limits, must answer `acr_abi_version() == 1`.
    pub fn load(&self, source: &str, bytes: &[u8]) -> Result<LoadedPolicy, PolicyError> {
        let metadata = read_metadata_and_check_imports(bytes)
            .map_err(|kind| PolicyError::new(source, kind))?;
        let name = metadata.name.clone();
        let hash = builtin_hash(bytes).unwrap_or_else(|| ModuleHash::of(bytes));
        let (module, origin, cache_problem) = self
            .compiled_module(hash, bytes)
            .map_err(|kind| PolicyError::new(&name, kind))?;
        let exports = check_abi_types(&module).map_err(|kind| PolicyError::new(&name, kind))?;
        let instance_pre = self
            .shared
            .linker
            .instantiate_pre(&module)
            .map_err(|error| {
                PolicyError::new(
                    &name,
                    PolicyErrorKind::Host {
                        message: error.to_string(),
                    },
                )
            })?;
        let spec = SandboxSpec {
            engine: &self.shared.runtime.engine,
            ticker: &self.shared.runtime.ticker,
            slots: &self.shared.runtime.slots,
            instance_pre: &instance_pre,
            exports: &exports,
            fuel_metering: self.shared.runtime.fuel_metering,
            policy: &name,
        };
        let found = spec.abi_version(&self.shared.runtime.limits).result?;
        if found != ABI_VERSION {
            return Err(PolicyError::during(
                &name,
                AbiCall::AbiVersion,
                PolicyErrorKind::AbiVersion { found },
            ));
        }
        Ok(LoadedPolicy {
            runtime: Arc::clone(&self.shared.runtime),
            source: source.to_owned(),
            metadata,
            module_hash: hash,
            instance_pre,
            exports,
            origin,
            cache_problem,
        })
    }

    /// The compiled module for `bytes`: from this process, precompiled into the binary (a
    /// built-in, when this engine compiles as the build's did), from disk, or compiled now (and
    /// then written to disk). Each module is compiled at most once per host; different
    /// modules compile in parallel when loaded from several threads.
    fn compiled_module(
        &self,
        hash: ModuleHash,
        bytes: &[u8],
    ) -> Result<(Module, ModuleOrigin, Option<Arc<CacheProblem>>), PolicyErrorKind> {
        let cell = Arc::clone(
            self.shared
                .compiled
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(hash)
                .or_default(),
        );
        let mut origin = ModuleOrigin::ThisProcess;
        let mut cache_problem = None;
        let module = cell.get_or_init(|| {
            let (module, first_origin, problem) = self.compile_once(hash, bytes)?;
            (origin, cache_problem) = (first_origin, problem);
            Ok(module)
        });
        Ok((module.clone()?, origin, cache_problem))
    }

    fn compile_once(
        &self,
        hash: ModuleHash,
        bytes: &[u8],
    ) -> Result<(Module, ModuleOrigin, Option<Arc<CacheProblem>>), PolicyErrorKind> {
        if let Some(code) = precompiled_code(&self.shared.engine_key, hash)
            && let Ok(module) =
                trusted_code::deserialize(&self.shared.runtime.engine, TrustedCode::Builtin(code))
        {
            return Ok((module, ModuleOrigin::Precompiled, None));
        }
        let (disk_cache, mut cache_problem) = match self.disk_cache() {
            None => (None, None),
            Some(Ok(cache)) => (Some(cache), None),
            Some(Err(problem)) => (None, Some(Arc::clone(problem))),
        };
        if let Some(cache) = disk_cache {
            match cache.load(&self.shared.runtime.engine, hash) {
                Ok(Some(module)) => return Ok((module, ModuleOrigin::DiskCache, None)),
                Ok(None) => {}
                Err(problem) => cache_problem = Some(Arc::new(problem)),
            }
        }
        let module = Module::new(&self.shared.runtime.engine, bytes).map_err(|error| {
            PolicyErrorKind::Compile {
                message: format!("{error:#}"),
            }
        })?;
        if let Some(Err(problem)) = disk_cache.map(|cache| cache.store(hash, &module)) {
            cache_problem.get_or_insert(Arc::new(problem));
        }
        Ok((module, ModuleOrigin::Compiled, cache_problem))
    }
}

/// The pool every evaluation's instance comes from: a fresh store still gets fresh memory and
/// tables, but from a slot reused without new mappings. Slots are as large as a 32-bit memory,
/// so the store's resource limiter, not the pool, enforces [`Limits::memory_bytes`]; `slots`
/// of them are reserved when the engine starts.
fn instance_pool(slots: u32) -> PoolingAllocationConfig {
    let tables_per_instance = MAX_TABLES as u32;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(slots)
        .total_memories(slots)
        .total_tables(slots * tables_per_instance)
        .total_component_instances(0)
        .max_memories_per_module(1)
        .max_tables_per_module(tables_per_instance)
        .table_elements(MAX_TABLE_ELEMENTS)
        .linear_memory_keep_resident(MEMORY_KEPT_RESIDENT)
        .table_keep_resident(TABLE_KEPT_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    pool
}
