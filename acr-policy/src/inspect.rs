//! Reads a module's metadata section and imports before anything is compiled, and checks its
//! compiled import and export types against ABI v1.

use crate::error::PolicyErrorKind;
use crate::limits::{MAX_METADATA_BYTES, MAX_MODULE_BYTES};
use std::fmt;
use wasm_guest::{METADATA_SECTION, Metadata};
use wasmtime::wasmparser::{ExternalKind, Parser, Payload, TypeRef};
use wasmtime::{ExternType, FuncType, Module, ModuleExport, ValType};

/// The module and field of the one import a policy may have.
pub const LOG_IMPORT: (&str, &str) = ("acr", "log");

/// Refuses a module over [`MAX_MODULE_BYTES`], parses every section header, reads the metadata
/// JSON (refused over [`MAX_METADATA_BYTES`]) and refuses any import but `acr.log`. Function
/// bodies are left to the compiler's validation.
pub fn read_metadata_and_check_imports(bytes: &[u8]) -> Result<Metadata, PolicyErrorKind> {
    if bytes.len() > MAX_MODULE_BYTES {
        return Err(PolicyErrorKind::ModuleTooLarge {
            len: bytes.len(),
            limit: MAX_MODULE_BYTES,
        });
    }
    let mut metadata_json = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|error| PolicyErrorKind::Malformed {
            reason: error.to_string(),
        })?;
        match payload {
            Payload::CustomSection(section) if section.name() == METADATA_SECTION => {
                if metadata_json.is_some() {
                    return Err(PolicyErrorKind::DuplicateMetadata);
                }
                if section.data().len() > MAX_METADATA_BYTES {
                    return Err(PolicyErrorKind::MetadataTooLarge {
                        len: section.data().len(),
                        limit: MAX_METADATA_BYTES,
                    });
                }
                metadata_json = Some(section.data());
            }
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import.map_err(|error| PolicyErrorKind::Malformed {
                        reason: error.to_string(),
                    })?;
                    if (import.module, import.name) != LOG_IMPORT {
                        return Err(PolicyErrorKind::ForbiddenImport {
                            module: import.module.to_owned(),
                            name: import.name.to_owned(),
                        });
                    }
                }
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                return Err(PolicyErrorKind::Malformed {
                    reason: "it is a component, not a core module".to_owned(),
                });
            }
            _ => {}
        }
    }
    let json = metadata_json.ok_or(PolicyErrorKind::MissingMetadata)?;
    let text = std::str::from_utf8(json).map_err(|error| PolicyErrorKind::Malformed {
        reason: format!("the `{METADATA_SECTION}` section is not UTF-8: {error}"),
    })?;
    Metadata::from_json(text).map_err(PolicyErrorKind::InvalidMetadata)
}

/// A module's imports and exports as `policy inspect` lists them, read without compiling.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ModuleInterface {
    /// `module.name (kind)` for each import.
    pub imports: Vec<String>,
    /// `name (kind)` for each export.
    pub exports: Vec<String>,
}

/// Lists a module's imports and exports, refusing nothing but unparsable bytes.
pub fn module_interface(bytes: &[u8]) -> Result<ModuleInterface, PolicyErrorKind> {
    let malformed = |error: wasmtime::wasmparser::BinaryReaderError| PolicyErrorKind::Malformed {
        reason: error.to_string(),
    };
    let mut interface = ModuleInterface::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import.map_err(malformed)?;
                    let kind = match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => "function",
                        TypeRef::Table(_) => "table",
                        TypeRef::Memory(_) => "memory",
                        TypeRef::Global(_) => "global",
                        TypeRef::Tag(_) => "tag",
                    };
                    interface
                        .imports
                        .push(format!("{}.{} ({kind})", import.module, import.name));
                }
            }
            Payload::ExportSection(exports) => {
                for export in exports {
                    let export = export.map_err(malformed)?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => "function",
                        ExternalKind::Table => "table",
                        ExternalKind::Memory => "memory",
                        ExternalKind::Global => "global",
                        ExternalKind::Tag => "tag",
                    };
                    interface.exports.push(format!("{} ({kind})", export.name));
                }
            }
            _ => {}
        }
    }
    Ok(interface)
}

/// Where a checked module's ABI v1 exports are, so that each evaluation finds them in its
/// fresh instance by index rather than by name.
#[derive(Clone, Copy)]
pub struct AbiExports {
    pub memory: ModuleExport,
    pub abi_version: ModuleExport,
    pub alloc: ModuleExport,
    pub evaluate: ModuleExport,
    /// The optional `acr_validate_settings`.
    pub validate_settings: Option<ModuleExport>,
}

impl fmt::Debug for AbiExports {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AbiExports")
            .field("validates_settings", &self.validate_settings.is_some())
            .finish_non_exhaustive()
    }
}

const REQUIRED_FUNCTIONS: [(&str, &[ValType], &[ValType], &str); 3] = [
    (
        "acr_abi_version",
        &[],
        &[ValType::I32],
        "(func (result i32))",
    ),
    (
        "acr_alloc",
        &[ValType::I32],
        &[ValType::I32],
        "(func (param i32) (result i32))",
    ),
    (
        "acr_evaluate",
        &[ValType::I32, ValType::I32],
        &[ValType::I64],
        "(func (param i32 i32) (result i64))",
    ),
];

const VALIDATE_SETTINGS: (&str, &[ValType], &[ValType], &str) = (
    "acr_validate_settings",
    &[ValType::I32, ValType::I32],
    &[ValType::I64],
    "(func (param i32 i32) (result i64))",
);

/// Checks the compiled module's import and export types against ABI v1.
pub fn check_abi_types(module: &Module) -> Result<AbiExports, PolicyErrorKind> {
    for import in module.imports() {
        let is_log_function = match import.ty() {
            ExternType::Func(func) => func_matches(&func, &[ValType::I32, ValType::I32], &[]),
            _ => false,
        };
        if !is_log_function {
            return Err(PolicyErrorKind::LogImportSignature {
                found: describe(&import.ty()),
            });
        }
    }
    let memory = match module.get_export("memory") {
        Some(ExternType::Memory(memory)) if !memory.is_64() && !memory.is_shared() => {
            export_index(module, "memory")?
        }
        Some(other) => {
            return Err(PolicyErrorKind::ExportSignature {
                name: "memory",
                found: describe(&other),
                expected: "an unshared 32-bit memory",
            });
        }
        None => return Err(PolicyErrorKind::MissingExport { name: "memory" }),
    };
    let [abi_version, alloc, evaluate] =
        REQUIRED_FUNCTIONS.map(|(name, params, results, expected)| {
            check_function_export(module, name, params, results, expected)?
                .ok_or(PolicyErrorKind::MissingExport { name })
        });
    let (name, params, results, expected) = VALIDATE_SETTINGS;
    Ok(AbiExports {
        memory,
        abi_version: abi_version?,
        alloc: alloc?,
        evaluate: evaluate?,
        validate_settings: check_function_export(module, name, params, results, expected)?,
    })
}

/// Where the function export is, if it exists with the right type; `None` when it is absent.
fn check_function_export(
    module: &Module,
    name: &'static str,
    params: &[ValType],
    results: &[ValType],
    expected: &'static str,
) -> Result<Option<ModuleExport>, PolicyErrorKind> {
    match module.get_export(name) {
        Some(ExternType::Func(func)) if func_matches(&func, params, results) => {
            export_index(module, name).map(Some)
        }
        Some(other) => Err(PolicyErrorKind::ExportSignature {
            name,
            found: describe(&other),
            expected,
        }),
        None => Ok(None),
    }
}

fn export_index(module: &Module, name: &'static str) -> Result<ModuleExport, PolicyErrorKind> {
    module
        .get_export_index(name)
        .ok_or(PolicyErrorKind::MissingExport { name })
}

fn func_matches(func: &FuncType, params: &[ValType], results: &[ValType]) -> bool {
    let same = |found: &mut dyn ExactSizeIterator<Item = ValType>, wanted: &[ValType]| {
        found.len() == wanted.len()
            && found
                .zip(wanted)
                .all(|(found, wanted)| ValType::eq(&found, wanted))
    };
    same(&mut func.params(), params) && same(&mut func.results(), results)
}

/// WAT-like text for a module item's type, for messages.
fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(func) => {
            let list = |types: &mut dyn Iterator<Item = ValType>| {
                types.map(|ty| ty.to_string()).collect::<Vec<_>>().join(" ")
            };
            let params = list(&mut func.params());
            let results = list(&mut func.results());
            let mut text = "(func".to_owned();
            if !params.is_empty() {
                text.push_str(&format!(" (param {params})"));
            }
            if !results.is_empty() {
                text.push_str(&format!(" (result {results})"));
            }
            text.push(')');
            text
        }
        ExternType::Memory(memory) if memory.is_64() => "a 64-bit memory".to_owned(),
        ExternType::Memory(memory) if memory.is_shared() => "a shared memory".to_owned(),
        ExternType::Memory(_) => "a memory".to_owned(),
        ExternType::Global(_) => "a global".to_owned(),
        ExternType::Table(_) => "a table".to_owned(),
        ExternType::Tag(_) => "a tag".to_owned(),
    }
}
